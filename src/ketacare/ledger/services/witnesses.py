"""Second people's passwords: a wrong one is counted, and too many lock that member out of
witnessing, counting and co-signing for a while, whatever is typed next.

A step that checks a second person (waste, destruction, a count, an adjustment, a correction)
runs in one transaction, and its refusal rolls that transaction back. So the step raises
`WitnessNotConfirmed`, naming the member whose password was wrong, and the page records the
failure with `witness_failure_record` after the rollback, in a transaction of its own (as
re-authentication failures are kept although the request fails, `accounts.reauth`).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.reauth import LOCK_MINUTES, MAX_FAILURES
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.ledger.models import WitnessLock


class WitnessNotConfirmed(Refused):
    """A second person's name and password did not match; carries who to count it against."""

    def __init__(self, message: str, *, field: str, actor: Actor, witness_id: int | None) -> None:
        super().__init__(message, field=field, code="second_person_not_confirmed")
        self.actor = actor
        # None when the name is no member of the clinic: there is nobody to count it against.
        self.witness_id = witness_id


def witness_lock_check(*, clinic_id: int, user_id: int, field: str) -> None:
    """Refuse (`witness_locked`) while the member is locked out of confirming steps."""
    locked_until = (
        WitnessLock.objects.filter(
            clinic_id=clinic_id, user_id=user_id, locked_until__gt=clock.wall_now()
        )
        .values_list("locked_until", flat=True)
        .first()
    )
    if locked_until is not None:
        raise Refused(
            f"This person may not witness or co-sign until {timezone.localtime(locked_until):%H:%M}"
            f": {MAX_FAILURES} wrong passwords were typed for them. Ask someone else.",
            field=field,
            code="witness_locked",
        )


def witness_confirmed(*, clinic_id: int, user_id: int) -> None:
    """A right password clears the member's count of wrong ones (in the step's transaction)."""
    WitnessLock.objects.filter(clinic_id=clinic_id, user_id=user_id, failed_attempts__gt=0).update(
        failed_attempts=0
    )


@transaction.atomic
def witness_failure_record(*, refusal: WitnessNotConfirmed) -> WitnessLock | None:
    """Count a wrong second-person password against that member; lock them after too many.

    Called after the refused step rolled back, so the count is kept although the step is not.
    """
    if refusal.witness_id is None:
        return None
    actor, now = refusal.actor, clock.wall_now()
    lock, _ = WitnessLock.objects.select_for_update().get_or_create(
        clinic_id=actor.clinic_id, user_id=refusal.witness_id
    )
    lock.failed_attempts += 1
    locked = lock.failed_attempts >= MAX_FAILURES
    if locked:
        lock.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        lock.failed_attempts = 0
    lock.save(update_fields=["failed_attempts", "locked_until"])
    audit_record(
        actor=actor, action=AuditAction.LOCKED_OUT if locked else AuditAction.LOGIN_FAILED,
        object_type="ledger_witness", object_id=refusal.witness_id,
        detail={"field": refusal.field or "", "locked": locked},
    )  # fmt: skip
    return lock
