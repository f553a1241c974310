"""Reads of the audit trail, always scoped to the actor's clinic."""

from collections.abc import Collection
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditEntry
from ketacare.kernel.clinic_time import clinic_zone


def audit_entries_for_clinic(
    *,
    actor: Actor,
    username: str = "",
    action: str = "",
    patient_ids: Collection[int] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The clinic's audit entries, newest first, filtered as asked."""
    actor.require(Permission.AUDIT_VIEW)
    entries = AuditEntry.objects.filter(clinic_id=actor.clinic_id)
    if username:
        entries = entries.filter(actor_username__iexact=username)
    if action:
        entries = entries.filter(action=action)
    if patient_ids is not None:
        entries = entries.filter(patient_id__in=list(patient_ids))
    # Days are the clinic's days; bounds on the column itself, so the index on time answers.
    tz = clinic_zone(actor.clinic)
    if since is not None:
        entries = entries.filter(at__gte=datetime.combine(since, time(), tzinfo=tz))
    if until is not None:
        next_day = datetime.combine(until + timedelta(days=1), time(), tzinfo=tz)
        entries = entries.filter(at__lt=next_day)
    return entries.order_by("-at", "-seq")
