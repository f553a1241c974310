"""A clinic's alarm thresholds: tighter than the policy defaults, every change kept and audited."""

from typing import Any

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.profiles import AlarmThresholds, load_monitoring_profiles, tighten_alarms
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.treatment.models import AlarmPolicy
from ketacare.treatment.services.steps import _text


def default_alarm_thresholds() -> AlarmThresholds:
    """The core's policy-default thresholds (every monitoring profile shares them)."""
    return next(iter(load_monitoring_profiles().values())).alarms


def alarm_policy_current(*, actor: Actor) -> AlarmPolicy | None:
    """The clinic's alarm policy in force (the latest change), or None for the defaults."""
    actor.require(Permission.CLINIC_MANAGE)
    return (
        AlarmPolicy.objects.filter(clinic_id=actor.clinic_id)
        .select_related("changed_by")
        .order_by("-changed_at", "-id")
        .first()
    )


@transaction.atomic
def alarm_policy_set(*, actor: Actor, thresholds: dict[str, Any], reason: str) -> AlarmPolicy:
    """Set the clinic's alarm thresholds; the core refuses any that would loosen an alarm.

    A value equal to the default is dropped (the default applies); the change is a new row,
    audited with the values before and after.
    """
    actor.require(Permission.CLINIC_MANAGE)
    text = _text(reason, "reason")
    base = default_alarm_thresholds()
    changes = {
        name: value
        for name, value in thresholds.items()
        if value is not None and value != getattr(base, name, None)
    }
    try:
        tighten_alarms(base, changes)
    except InvalidInput as error:
        raise Refused(error.message, field=error.field, code="looser_than_default") from error
    before = alarm_policy_current(actor=actor)
    policy = AlarmPolicy.objects.create(
        clinic=actor.clinic,
        thresholds=changes,
        reason=text,
        changed_by=actor.user,
        changed_at=clock.now(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="alarm_policy",
        object_id=policy.pk,
        detail={"before": before.thresholds if before else {}, "after": changes, "reason": text},
    )
    return policy
