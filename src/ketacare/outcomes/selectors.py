"""Reads of measurement-based care: safety alerts and scored responses, scoped to the clinic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Membership, User
from ketacare.accounts.permissions import PERMISSION_TABLE, Permission
from ketacare.audit.models import AuditAction, AuditEntry
from ketacare.audit.services import audit_record
from ketacare.clinical.alerts import AlertDue, due, rank
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_zone
from ketacare.outcomes.models import (
    AlertStatus,
    SafetyAlert,
    ScaleResponse,
)
from ketacare.pagination import KeysetPage, keyset_page
from ketacare.patients.selectors import patient_get_for_actor

PRIMARY_INSTRUMENT = "phq9"  # the dashboard's default outcome measure (any classifiable works)
LIST_LIMIT = 200


# --- alerts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertCounts:
    """Open (nobody has acknowledged) and acknowledged (not yet resolved) alerts."""

    open: int
    acknowledged: int


def alerts_of_clinic(*, actor: Actor) -> QuerySet[SafetyAlert]:
    """Every query for safety alerts starts here: the actor's clinic only."""
    return SafetyAlert.objects.filter(clinic_id=actor.clinic_id)


def alert_counts(*, actor: Actor) -> AlertCounts:
    """How many alerts wait for someone: one query, no patient data (not audited)."""
    actor.require(Permission.ALERT_VIEW)
    counts = alerts_of_clinic(actor=actor).aggregate(
        open=Count("id", filter=Q(status=AlertStatus.OPEN)),
        acknowledged=Count("id", filter=Q(status=AlertStatus.ACKNOWLEDGED)),
    )
    return AlertCounts(open=counts["open"], acknowledged=counts["acknowledged"])


def alert_page(
    *,
    actor: Actor,
    include_resolved: bool = False,
    after: str | None = None,
    size: int | None = None,
) -> KeysetPage[SafetyAlert]:
    """A keyset page of the clinic's alerts, newest first by when they were raised, shown open
    first and most urgent first within the page; the read is audited."""
    actor.require(Permission.ALERT_VIEW)
    alerts = alerts_of_clinic(actor=actor).select_related(
        "patient", "acknowledged_by", "assigned_to", "resolved_by"
    )
    if not include_resolved:
        alerts = alerts.exclude(status=AlertStatus.RESOLVED)
    size = size or LIST_LIMIT
    page = keyset_page(alerts, keys=("raised_at", "id"), cursor=after, size=size, descending=True)
    page.items.sort(key=lambda a: (a.status != AlertStatus.OPEN, _severity_rank(a.severity)))
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="safety_alert",
        detail={
            "alert_ids": [a.pk for a in page],
            "patient_ids": sorted({a.patient_id for a in page}),
        },
    )
    return page


def alert_list(*, actor: Actor, include_resolved: bool = False) -> list[SafetyAlert]:
    """Unresolved alerts (the newest page), open first and most urgent first; audited."""
    return alert_page(actor=actor, include_resolved=include_resolved).items


def _severity_rank(severity: str) -> int:
    """The core's order of urgency (an unknown one sorts first: fail closed)."""
    return rank(severity)


def alert_due(*, alert: SafetyAlert, zone: ZoneInfo, now: datetime | None = None) -> AlertDue:
    """When the alert is due and whether it is overdue now, per the core's urgency rule."""
    return due(
        alert.severity,
        raised_at=alert.raised_at,
        resolved=alert.status == AlertStatus.RESOLVED,
        now=now or clock.now(),
        zone=zone,
    )


def alert_due_for_actor(*, actor: Actor, alert: SafetyAlert) -> AlertDue:
    """`alert_due` in the actor's clinic's day (the alert is of the actor's clinic)."""
    return alert_due(alert=alert, zone=clinic_zone(actor.clinic))


def alert_get_for_actor(*, actor: Actor, alert_id: int, audit: bool = True) -> SafetyAlert:
    """One alert of the actor's clinic (404 for any other); the read is audited."""
    actor.require(Permission.ALERT_VIEW)
    alert = (
        alerts_of_clinic(actor=actor)
        .select_related("patient", "response", "acknowledged_by", "assigned_to", "resolved_by")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise Http404("Safety alert not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="safety_alert",
            object_id=alert.pk,
            patient_id=alert.patient_id,
        )
    return alert


def alert_history(*, actor: Actor, alert: SafetyAlert) -> list[AuditEntry]:
    """Who raised, acknowledged, assigned and resolved the alert: from the audit trail."""
    return list(
        AuditEntry.objects.filter(
            clinic_id=actor.clinic_id,
            object_type="safety_alert",
            object_id=str(alert.pk),
            action__in=[AuditAction.CREATE, AuditAction.UPDATE],
        ).order_by("seq")
    )


def alert_assignees(*, actor: Actor) -> list[User]:
    """Members of the clinic who may manage alerts (to assign one)."""
    roles = PERMISSION_TABLE[Permission.ALERT_MANAGE]
    return [
        m.user
        for m in Membership.objects.filter(
            clinic_id=actor.clinic_id, is_active=True, user__is_active=True, role__in=roles
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    ]


def scale_responses_for(*, actor: Actor, patient_id: int) -> list[ScaleResponse]:
    """Every scored response of one patient of the clinic, oldest first; the read is audited."""
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.QUESTIONNAIRE_VIEW
    )
    return list(
        ScaleResponse.objects.filter(clinic_id=actor.clinic_id, patient=patient).order_by(
            "recorded_at", "id"
        )
    )
