"""Pre-dose checks and the start decision."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.clinical.dosing import dosing_weight
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.protocols import WeightBasedDose
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.outcomes.models import ResponseSource, ScaleResponse
from ketacare.outcomes.services import scale_response_record
from ketacare.patients.selectors import latest_height_cm
from ketacare.patients.services import measurement_record
from ketacare.scheduling.models import AppointmentStatus
from ketacare.scheduling.selectors import clinic_zone, local_date
from ketacare.treatment import rules, states
from ketacare.treatment.models import (
    DoseOrder,
    DoseOrderStatus,
    PreDoseCheck,
    PregnancyTest,
    StartDecision,
    StartDecisionChoices,
)
from ketacare.treatment.plans import protocol_of
from ketacare.treatment.services.monitoring import _reading
from ketacare.treatment.services.steps import (
    S,
    _audit,
    _begin_versioned_step,
    _clearance,
    _current_pre_check,
    _event_time,
    _live_order,
    _move,
    _rename_field,
    _set_appointment,
    _settle,
    _text,
)

# --- pre-dose checks ----------------------------------------------------------------------------


@transaction.atomic
def predose_check_record(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    weight_kg: Decimal,
    systolic: int,
    diastolic: int,
    heart_rate: int,
    spo2: int,
    fasting_confirmed: bool,
    escort_confirmed: bool,
    pregnancy_test: str,
    medication_changes: bool,
    phq9_answers: Sequence[int],
    cssrs_answers: Sequence[int | bool | None],
    escort_name: str = "",
    medication_changes_note: str = "",
    height_cm: Decimal | None = None,
    taken_at: datetime | None = None,
) -> PreDoseCheck:
    """Record today's weight, vital signs, checklist and scales; the core checks the start limits.

    Today's weight (and a height, when measured) go to the chart as a measurement. PHQ-9 and
    C-SSRS are stored as scale responses (scored by the core; safety alerts raised by outcomes).
    Findings that hold the start are kept with the check.
    """
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "pre_dose_check",
        PreDoseCheck,
        version=version,
        target=S.PRE_CHECKED,
    )
    if replayed is not None:
        return replayed
    try:
        dosing_weight(basis="actual", actual_weight_kg=weight_kg)
    except InvalidInput as error:
        raise _rename_field(error, "weight_kg") from error
    if pregnancy_test not in PregnancyTest.values:
        raise Refused("Choose the pregnancy test result.", field="pregnancy_test", code="choice")
    note = _text(medication_changes_note, "medication_changes_note", required=medication_changes)
    escort = _text(escort_name, "escort_name", required=False)
    moment = _event_time(session, taken_at, "taken_at", not_before=session.checked_in_at)
    chart_height = latest_height_cm(patient=session.patient)
    protocol = protocol_of(session)
    needs_height = isinstance(protocol.dose, WeightBasedDose) and (
        protocol.dose.weight_basis != "actual"
    )
    if needs_height and height_cm is None and chart_height is None:
        raise Refused(
            "The chart has no height, and this protocol's dosing weight needs one: measure it.",
            field="height_cm",
            code="height_needed",
        )
    measurement_record(
        actor=actor,
        patient_id=session.patient_id,
        measured_on=local_date(moment, clinic_zone(actor.clinic)),
        height_cm=height_cm,
        weight_kg=weight_kg,
    )
    recorded: list[ScaleResponse] = []
    for instrument_id, answers in (("phq9", phq9_answers), ("cssrs_screen", cssrs_answers)):
        try:
            result = scale_response_record(
                actor=actor,
                patient=session.patient,
                instrument_id=instrument_id,
                answers=list(answers),
                source=ResponseSource.SESSION,
                recorded_at=moment,
            )
        except InvalidInput as error:
            field = "phq9_answers" if instrument_id == "phq9" else "cssrs_answers"
            raise _rename_field(error, f"{field}.{error.field or ''}".rstrip(".")) from error
        recorded.append(result.response)
    phq9, cssrs = recorded
    entry = _reading(
        actor,
        session,
        taken_at=moment,
        values={
            "systolic": systolic,
            "diastolic": diastolic,
            "heart_rate": heart_rate,
            "spo2": spo2,
        },
    )
    concerns = rules.checklist_concerns(
        fasting_confirmed=fasting_confirmed,
        escort_confirmed=escort_confirmed,
        pregnancy_test=pregnancy_test,
        medication_changes=medication_changes,
        medication_changes_note=note,
        scale_alerts=[(r.instrument_id, r.alerts) for r in (phq9, cssrs)],
    )
    check = PreDoseCheck.objects.create(
        clinic=actor.clinic,
        session=session,
        vitals=entry,
        weight_kg=weight_kg,
        height_cm=height_cm if height_cm is not None else chart_height,
        fasting_confirmed=fasting_confirmed,
        escort_confirmed=escort_confirmed,
        escort_name=escort,
        pregnancy_test=pregnancy_test,
        medication_changes=medication_changes,
        medication_changes_note=note,
        phq9=phq9,
        cssrs=cssrs,
        concerns=[c.as_json() for c in concerns],
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    _move(session, S.PRE_CHECKED)
    _audit(
        actor,
        AuditAction.CREATE,
        "pre_dose_check",
        check.pk,
        session,
        {"concerns": [c.code for c in concerns], "alarms": [a["code"] for a in entry.alarms]},
    )
    _settle(actor, idempotency_key, session, check.pk)
    return check


@transaction.atomic
def start_decision_record(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    decision: str,
    reason: str,
) -> StartDecision:
    """A prescriber decides, with a reason, on findings that hold the start; not on a hard block."""
    session, replayed = _begin_versioned_step(
        actor,
        Permission.CLINICAL_DECISION,
        session_id,
        idempotency_key,
        "start_decision",
        StartDecision,
        version=version,
    )
    if replayed is not None:
        return replayed
    states.ensure_status_in(
        session.status, frozenset({S.PRE_CHECKED, S.ORDERED, S.VERIFIED}), "decide on the start"
    )
    if decision not in StartDecisionChoices.values:
        raise Refused("Choose proceed or do not dose.", field="decision", code="choice")
    text = _text(reason, "reason")
    clearance = _clearance(session)
    if not clearance.concerns:
        raise Refused(
            "Nothing holds the start: no decision is needed.", field="decision", code="no_concern"
        )
    if decision == StartDecisionChoices.PROCEED and clearance.blocking:
        raise Refused(
            "This cannot be overridden: "
            + "; ".join(c.message for c in clearance.blocking)
            + ". Recheck, or decide not to dose today.",
            field="decision",
            code="start_blocked",
        )
    pre_check = _current_pre_check(session)
    if pre_check is None or clearance.reading is None:
        raise Refused(clearance.reason, field="status", code="nothing_to_decide")
    made = StartDecision.objects.create(
        clinic=actor.clinic,
        session=session,
        pre_check=pre_check,
        reading=clearance.reading,
        decision=decision,
        reason=text,
        concerns=[c.as_json() for c in clearance.concerns],
        decided_by=actor.user,
        decided_at=clock.now(),
    )
    if decision == StartDecisionChoices.DO_NOT_START:
        live = _live_order(session)
        if live is not None:
            DoseOrder.objects.filter(pk=live.pk).update(
                status=DoseOrderStatus.REJECTED,
                rejected_by=actor.user,
                rejected_at=clock.now(),
                rejection_reason=f"Not dosed today: {text}",
            )
        _move(session, S.CANCELLED, cancelled_at=clock.now(), cancel_reason=f"Not dosed: {text}")
        _set_appointment(actor, session, AppointmentStatus.NOT_DOSED)
    else:
        _move(session)
    _audit(
        actor,
        AuditAction.SIGN,
        "start_decision",
        made.pk,
        session,
        {"decision": decision, "concerns": [c.code for c in clearance.concerns]},
    )
    _settle(actor, idempotency_key, session, made.pk)
    return made
