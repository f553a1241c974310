"""Corrections in a session: a reading or an adverse event entered in error, and follow-ups.

Nothing here edits or deletes what was recorded. A reading or an adverse event entered in error
is marked so (who, when, why) and stays on the timeline; an adverse event's later outcome is a
new follow-up entry. Both work after discharge too: a phone call the next day is a follow-up.
"""

from django.db import transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.corrections import entered_in_error_mark
from ketacare.audit.models import AuditAction
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.treatment.models import (
    AdverseEvent,
    AdverseEventFollowUp,
    AdverseEventOutcome,
    MonitoringEntry,
)
from ketacare.treatment.services.steps import _audit, _lock, _move, _text


@transaction.atomic
def monitoring_entry_enter_in_error(
    *, actor: Actor, session_id: int, monitoring_entry_id: int, reason: str
) -> MonitoringEntry:
    """Mark a reading entered in error: kept on the timeline, no longer counted, audited."""
    actor.require(Permission.SESSION_RUN)
    session = _lock(actor, session_id)
    entry = MonitoringEntry.objects.filter(pk=monitoring_entry_id, session=session).first()
    if entry is None:
        raise Http404("Reading not found.")
    entered_in_error_mark(
        actor=actor,
        model=MonitoringEntry,
        pk=entry.pk,
        object_type="monitoring_entry",
        patient_id=session.patient_id,
        reason=reason,
        detail={"session_id": session.pk},
    )
    _move(session)  # what counts changed: open forms and the polled timeline see a new version
    entry.refresh_from_db()
    return entry


@transaction.atomic
def adverse_event_enter_in_error(
    *, actor: Actor, session_id: int, adverse_event_id: int, reason: str
) -> AdverseEvent:
    """Mark an adverse event entered in error (wrong patient, never happened), kept, audited."""
    actor.require(Permission.SESSION_RUN)
    session = _lock(actor, session_id)
    event = AdverseEvent.objects.filter(pk=adverse_event_id, session=session).first()
    if event is None:
        raise Http404("Adverse event not found.")
    entered_in_error_mark(
        actor=actor,
        model=AdverseEvent,
        pk=event.pk,
        object_type="adverse_event",
        patient_id=session.patient_id,
        reason=reason,
        detail={"session_id": session.pk},
    )
    _move(session)
    event.refresh_from_db()
    return event


@transaction.atomic
def adverse_event_follow_up(
    *, actor: Actor, session_id: int, adverse_event_id: int, outcome: str, note: str
) -> AdverseEventFollowUp:
    """Record how an adverse event has gone since: its outcome now and what was seen or done."""
    actor.require(Permission.SESSION_RUN)
    session = _lock(actor, session_id)
    event = AdverseEvent.objects.filter(pk=adverse_event_id, session=session).first()
    if event is None:
        raise Http404("Adverse event not found.")
    if event.entered_in_error_at is not None:
        raise Conflict(
            "This adverse event was entered in error; it is not followed up.",
            field="adverse_event_id",
            code="entered_in_error",
        )
    if outcome not in AdverseEventOutcome.values:
        raise Refused("Choose the outcome now.", field="outcome", code="choice")
    current = event.outcome_now
    if event.followed_to_outcome:
        raise Conflict(
            f"This adverse event was already followed to its outcome "
            f"({AdverseEventOutcome(current).label.lower()}).",
            field="outcome",
            code="adverse_event_closed",
        )
    text = _text(note, "note")
    follow_up = AdverseEventFollowUp.objects.create(
        clinic=actor.clinic,
        adverse_event=event,
        outcome=outcome,
        note=text,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    _audit(
        actor,
        AuditAction.CREATE,
        "adverse_event_follow_up",
        follow_up.pk,
        session,
        {"adverse_event_id": event.pk, "outcome": outcome},
    )
    return follow_up
