""" "Entered in error": how a signed or recorded item is corrected without being faked.

Every correctable record (a reading, an adverse event, a consent signature, a note, a
questionnaire answer) carries the same three fields from `EnteredInError`. Marking it is one
conditional UPDATE (so two people cannot both mark it) plus an audit entry; the record itself
is never changed or deleted, stays visible with its reason, and stops counting in every rule.
The replacement, when there is one, is a new record.
"""

from typing import Any

from django.conf import settings
from django.db import models

from ketacare.accounts.access import Actor
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock

MIN_REASON_LENGTH = 5


class EnteredInError(models.Model):
    """The fields that mark a record entered in error: when, by whom and why."""

    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_in_error_reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None


def entered_in_error_constraint(prefix: str) -> models.CheckConstraint:
    """The database's guarantee that a record marked in error names why."""
    return models.CheckConstraint(
        condition=models.Q(entered_in_error_at__isnull=True)
        | ~models.Q(entered_in_error_reason=""),
        name=f"{prefix}_entered_in_error_has_reason",
    )


def entered_in_error_mark(
    *,
    actor: Actor,
    model: type[models.Model],
    pk: int,
    object_type: str,
    patient_id: int | None,
    reason: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Mark one record of the actor's clinic entered in error, once, with a reason; audited.

    Call inside the caller's transaction after its own permission and state checks.
    """
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON_LENGTH:
        raise Refused(
            "Say why this was entered in error (a few words at least).",
            field="reason",
            code="reason_required",
        )
    updated = model._default_manager.filter(
        pk=pk, clinic_id=actor.clinic_id, entered_in_error_at__isnull=True
    ).update(
        entered_in_error_at=clock.wall_now(),
        entered_in_error_by=actor.user,
        entered_in_error_reason=reason,
    )
    if updated == 0:
        raise Conflict(
            "This was already marked entered in error.",
            field="reason",
            code="already_entered_in_error",
        )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=object_type,
        object_id=pk,
        patient_id=patient_id,
        detail={"entered_in_error": True, "reason": reason, **(detail or {})},
    )
