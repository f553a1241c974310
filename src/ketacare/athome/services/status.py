"""Pause, resume or end an at-home programme, with the reason, kept as a history.

Pausing is the safe direction (a broken rule, a red flag, a misuse concern), so any clinician
may pause; resuming and ending are the prescriber's. A paused programme releases no dose: the
patient's page says the clinic will contact them.
"""

from __future__ import annotations

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.athome.models import HomeProgramme, ProgrammeStatus, ProgrammeStatusChange
from ketacare.athome.services.programme import _programme
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock

S = ProgrammeStatus
# (from, to) → the permission the change needs
TRANSITIONS: dict[tuple[str, str], Permission] = {
    (S.ACTIVE, S.PAUSED): Permission.ATHOME_REVIEW,
    (S.PAUSED, S.ACTIVE): Permission.ATHOME_PRESCRIBE,
    (S.ACTIVE, S.ENDED): Permission.ATHOME_PRESCRIBE,
    (S.PAUSED, S.ENDED): Permission.ATHOME_PRESCRIBE,
}


@transaction.atomic
def programme_status_change(
    *, actor: Actor, programme_id: int, to_status: str, reason: str, seen_status: str
) -> HomeProgramme:
    """Move the programme to `to_status` from the status the page showed (`seen_status`)."""
    actor.require(Permission.ATHOME_VIEW)
    why = (reason or "").strip()
    if not why:
        raise Refused("Say why.", field="reason", code="required")
    if to_status not in S.values:
        raise Refused("Choose paused, active or ended.", field="to_status", code="invalid")
    programme = _programme(actor, programme_id)
    if programme.status != seen_status:
        raise Conflict(
            f"Someone changed this programme since you opened it: it is now "
            f"{programme.get_status_display().lower()}. Reload and try again.",
            field="version",
            code="stale_version",
        )
    needed = TRANSITIONS.get((programme.status, to_status))
    if needed is None:
        raise Refused(
            f"A programme that is {programme.get_status_display().lower()} cannot become "
            f"{S(to_status).label.lower()}.",
            field="to_status",
            code="transition_not_allowed",
        )
    actor.require(needed)
    change = ProgrammeStatusChange.objects.create(
        clinic_id=programme.clinic_id, programme=programme, from_status=programme.status,
        to_status=to_status, reason=why[:2000], decided_by=actor.user, decided_at=clock.now(),
    )  # fmt: skip
    programme.status = to_status
    programme.save(update_fields=["status"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, object_type="home_programme",
        object_id=programme.pk, patient_id=programme.patient_id,
        detail={"status": [change.from_status, to_status], "change_id": change.pk},
    )  # fmt: skip
    return programme
