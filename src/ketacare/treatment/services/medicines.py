"""Medicines given during a session besides the ketamine dose (an antiemetic, a benzodiazepine,
an antihypertensive): what, how much, by which route and when, read through the medicine
vocabulary. A name it does not hold is recorded as typed and marked for review. Like readings
and adverse events, a medicine given is never edited: one recorded by mistake is entered in
error (kept, with the reason) and the right one recorded anew."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.corrections import entered_in_error_mark
from ketacare.audit.models import AuditAction
from ketacare.clinical.given import check_dose, read_given
from ketacare.kernel import clock
from ketacare.treatment import states
from ketacare.treatment.models import MedicineGiven
from ketacare.treatment.services.steps import (
    _audit,
    _begin_step,
    _event_time,
    _lock,
    _move,
    _settle,
    _text,
)


@transaction.atomic
def medicine_given_record(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    medicine: str,
    dose: Decimal | None,
    unit: str,
    route: str,
    given_at: datetime | None = None,
    indication: str = "",
) -> MedicineGiven:
    """Record a medicine given in the session; the core reads the name into its ingredients."""
    session, replayed = _begin_step(
        actor, Permission.SESSION_RUN, session_id, idempotency_key, "medicine_given", MedicineGiven
    )
    if replayed is not None:
        return replayed
    states.ensure_status_in(
        session.status, states.OPEN_FOR_ADVERSE_EVENTS, "record a medicine given"
    )
    given = read_given(medicine)
    amount = check_dose(dose, unit, route)
    moment = _event_time(session, given_at, "given_at", not_before=session.checked_in_at)
    row = MedicineGiven.objects.create(
        clinic=actor.clinic,
        session=session,
        medicine=given.entry[:200],
        ingredients=list(given.ingredients),
        needs_review=given.needs_review,
        dose=amount,
        unit=unit,
        route=route,
        given_at=moment,
        indication=_text(indication, "indication", required=False),
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    _audit(
        actor,
        AuditAction.CREATE,
        "medicine_given",
        row.pk,
        session,
        {
            "medicine": row.medicine,
            "ingredients": row.ingredients,
            "needs_review": row.needs_review,
            "dose": str(amount),
            "unit": unit,
            "route": route,
        },
    )
    _settle(actor, idempotency_key, session, row.pk)
    return row


@transaction.atomic
def medicine_given_enter_in_error(
    *, actor: Actor, session_id: int, medicine_given_id: int, reason: str
) -> MedicineGiven:
    """Mark a medicine given entered in error (wrong patient, never given): kept, audited."""
    actor.require(Permission.SESSION_RUN)
    session = _lock(actor, session_id)
    row = MedicineGiven.objects.filter(pk=medicine_given_id, session=session).first()
    if row is None:
        raise Http404("Medicine given not found.")
    entered_in_error_mark(
        actor=actor,
        model=MedicineGiven,
        pk=row.pk,
        object_type="medicine_given",
        patient_id=session.patient_id,
        reason=reason,
        detail={"session_id": session.pk},
    )
    _move(session)
    row.refresh_from_db()
    return row
