"""Writes to treatment sessions: each step one transaction, audited, recorded once.

Two protections work together:
- Steps that move the session on (pre-dose check, start decision, order, verification,
  start of dosing, devices, discharge, cancelling) name the session `version` they were decided
  on; a stale one answers 409 (`Conflict`, field `version`). A decision is never made on a view
  of the session that someone else has since changed.
- Readings, adverse events, alarm actions, pauses and stops are appended or applied to the
  current state under the session's row lock without naming a version: two nurses recording
  readings never block each other, and pausing an infusion can never fail for being "stale".
Every POST step also carries an idempotency key, unique per clinic: a retry of the same
submission (double click, network retry) returns the first result and records nothing twice.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.dosing import dosing_weight
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.monitoring import VitalReading, check_vitals, discharge_check
from ketacare.clinical.protocols import WeightBasedDose, check_session, get_protocol
from ketacare.consent.selectors import consent_status
from ketacare.errors import Conflict, Refused
from ketacare.outcomes.models import ResponseSource, ScaleResponse
from ketacare.outcomes.services import scale_response_record
from ketacare.patients.selectors import latest_height_cm
from ketacare.patients.services import measurement_record
from ketacare.scheduling.models import Appointment, AppointmentStatus, Course, CourseStatus
from ketacare.scheduling.selectors import SESSION_KINDS, clinic_zone, local_date
from ketacare.scheduling.services import appointment_set_status
from ketacare.screening.selectors import screening_allows_treatment, screening_current_for
from ketacare.treatment import clock, rules, states
from ketacare.treatment.models import (
    Administration,
    AdministrationState,
    AdverseEvent,
    AdverseEventKind,
    AdverseEventOutcome,
    AdverseEventSeverity,
    Discharge,
    Dissociation,
    DoseOrder,
    DoseOrderStatus,
    EsketamineDevice,
    InfusionChange,
    InfusionChangeKind,
    MonitoringAction,
    MonitoringEntry,
    MonitoringPhase,
    PreDoseCheck,
    PregnancyTest,
    SessionStatus,
    SessionSubmission,
    StartDecision,
    StartDecisionChoices,
    TreatmentSession,
)
from ketacare.treatment.plans import compute_plan, order_fields, plan_as_json, protocol_of

S = SessionStatus
ModelT = TypeVar("ModelT", bound=models.Model)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
# Tablets' clocks drift: a reading stamped up to this far ahead of the server is accepted.
CLOCK_SKEW = timedelta(minutes=2)
MAX_TEXT = 2000


# --- helpers ------------------------------------------------------------------------------------


def _text(value: str | None, field: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise Refused("This needs a reason or a description.", field=field, code="required")
    if len(text) > MAX_TEXT:
        raise Refused(f"Keep this under {MAX_TEXT} characters.", field=field, code="too_long")
    return text


def _claim(actor: Actor, key: str, step: str) -> SessionSubmission | None:
    """Claim an idempotency key for a step; the earlier submission if the key was used."""
    if not IDEMPOTENCY_KEY.match(key or ""):
        raise Refused(
            "Each submission needs an idempotency key of 8-64 letters, digits or -_.:",
            field="idempotency_key",
            code="idempotency_key",
        )
    try:
        with transaction.atomic():
            SessionSubmission.objects.create(
                clinic_id=actor.clinic_id, key=key, step=step, user=actor.user
            )
    except IntegrityError:  # used before (or racing in from a second request, now committed)
        previous = SessionSubmission.objects.get(clinic_id=actor.clinic_id, key=key)
        if previous.step != step or previous.result_id is None:
            raise Conflict(
                "This submission key was already used for a different step.",
                field="idempotency_key",
                code="idempotency_key_reused",
            ) from None
        return previous
    return None


def _settle(actor: Actor, key: str, session: TreatmentSession, result_id: int) -> None:
    SessionSubmission.objects.filter(clinic_id=actor.clinic_id, key=key).update(
        session=session, result_id=result_id
    )


def _replay(
    actor: Actor, key: str, step: str, model: type[ModelT], *, session_id: int | None = None
) -> ModelT | None:
    previous = _claim(actor, key, step)
    if previous is None:
        return None
    if session_id is not None and previous.session_id != session_id:
        raise Conflict(
            "This submission key was already used for another session.",
            field="idempotency_key",
            code="idempotency_key_reused",
        )
    return model._default_manager.get(pk=previous.result_id, clinic_id=actor.clinic_id)


def _lock(actor: Actor, session_id: int) -> TreatmentSession:
    """The session row, locked for this transaction; another clinic's is not found."""
    session = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("patient", "course")
        .filter(pk=session_id, clinic_id=actor.clinic_id)
        .first()
    )
    if session is None:
        raise Http404("Session not found.")
    return session


def _check_version(session: TreatmentSession, version: int | None) -> None:
    if version != session.version:
        raise Conflict(
            f"This session was changed by someone else since you opened it (you saw version "
            f"{version}, it is now at version {session.version}). Reload the session and decide "
            "again.",
            field="version",
            code="stale_version",
        )


def _begin_step(
    actor: Actor,
    permission: Permission,
    session_id: int,
    key: str,
    step: str,
    model: type[ModelT],
) -> tuple[TreatmentSession, ModelT | None]:
    """Open a step on a session: the permission, then the row lock, then the idempotent replay.

    Returns the locked session and, if this key already recorded the step, its first result,
    which the caller returns as it is.
    """
    actor.require(permission)
    session = _lock(actor, session_id)
    return session, _replay(actor, key, step, model, session_id=session.pk)


def _begin_versioned_step(
    actor: Actor,
    permission: Permission,
    session_id: int,
    key: str,
    step: str,
    model: type[ModelT],
    *,
    version: int | None,
    target: str | None = None,
) -> tuple[TreatmentSession, ModelT | None]:
    """`_begin_step`, then, for a new submission, the version check and the move to `target`.

    The replay comes before the version check, so a retried submission gets its first result
    back rather than a 409 for the version its own first attempt bumped.
    """
    session, replayed = _begin_step(actor, permission, session_id, key, step, model)
    if replayed is None:
        _check_version(session, version)
        if target is not None:
            states.ensure_transition(session.status, target)
    return session, replayed


def _move(session: TreatmentSession, target: str | None = None, **fields: Any) -> None:
    """Change the session (and its status, if the state machine allows), bumping its version."""
    if target is not None:
        states.ensure_transition(session.status, target)
        session.status = target
        fields["status"] = target
    for name, value in fields.items():
        setattr(session, name, value)
    session.version += 1
    session.save(update_fields=[*fields, "version"])


def _audit(
    actor: Actor,
    action: AuditAction,
    object_type: str,
    object_id: int,
    session: TreatmentSession,
    detail: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=session.patient_id,
        detail={"session_id": session.pk, **(detail or {})},
    )


def _event_time(
    session: TreatmentSession, at: datetime | None, field: str, *, not_before: datetime | None
) -> datetime:
    """A recorded event time: now by default; never in the future or before `not_before`."""
    now = clock.now()
    moment = at or now
    if moment.tzinfo is None:
        raise Refused("Give the time with its time zone.", field=field, code="naive_time")
    if moment > now + CLOCK_SKEW:
        raise Refused("This time is in the future.", field=field, code="future_time")
    floor = not_before or session.checked_in_at
    if moment < floor:
        raise Refused(
            f"This time is before {floor.astimezone(clinic_zone(session.clinic)):%H:%M}, "
            "which cannot be.",
            field=field,
            code="too_early",
        )
    return moment


def _live_order(session: TreatmentSession) -> DoseOrder | None:
    return (
        DoseOrder.objects.filter(
            session=session, status__in=[DoseOrderStatus.ORDERED, DoseOrderStatus.VERIFIED]
        )
        .select_related("ordered_by")
        .first()
    )


def _current_pre_check(session: TreatmentSession) -> PreDoseCheck | None:
    return PreDoseCheck.objects.filter(session=session).order_by("-recorded_at", "-id").first()


def _clearance(session: TreatmentSession) -> rules.Clearance:
    return rules.start_clearance(
        protocol=protocol_of(session),
        pre_check=_current_pre_check(session),
        entries=list(MonitoringEntry.objects.filter(session=session)),
        decisions=list(StartDecision.objects.filter(session=session)),
    )


def _set_appointment(actor: Actor, session: TreatmentSession, status: str) -> None:
    appointment = session.appointment
    if appointment is None or appointment.status == status:
        return
    appointment_set_status(actor=actor, appointment=appointment, status=status, now=clock.now())


def _rename_field(error: InvalidInput, field: str) -> InvalidInput:
    return InvalidInput(error.message, field=field)


# --- check-in -----------------------------------------------------------------------------------


@transaction.atomic
def session_check_in(
    *,
    actor: Actor,
    idempotency_key: str,
    appointment_id: int | None = None,
    course_id: int | None = None,
) -> TreatmentSession:
    """Check a patient in for a session of their course, from today's appointment or walk-in."""
    actor.require(Permission.SESSION_RUN)
    replayed = _replay(actor, idempotency_key, "check_in", TreatmentSession)
    if replayed is not None:
        return replayed
    now = clock.now()
    zone = clinic_zone(actor.clinic)
    appointment = None
    if appointment_id is not None:
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("course", "patient")
            .filter(pk=appointment_id, clinic_id=actor.clinic_id)
            .first()
        )
        if appointment is None:
            raise Http404("Appointment not found.")
        if appointment.kind not in SESSION_KINDS or appointment.course_id is None:
            raise Refused(
                "Only a treatment or booster appointment of a course starts a session.",
                field="appointment_id",
                code="not_a_session",
            )
        if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED):
            raise Refused(
                f"The appointment is {appointment.get_status_display().lower()}.",
                field="appointment_id",
                code="appointment_status",
            )
        if local_date(appointment.starts_at, zone) != local_date(now, zone):
            raise Refused(
                f"The appointment is on {local_date(appointment.starts_at, zone):%a %Y-%m-%d}, "
                "not today.",
                field="appointment_id",
                code="not_today",
            )
        if TreatmentSession.objects.filter(appointment=appointment).exists():
            raise Conflict(
                "A session was already started for this appointment.",
                field="appointment_id",
                code="already_checked_in",
            )
        course = appointment.course
    elif course_id is not None:
        course = (
            Course.objects.select_related("patient")
            .filter(pk=course_id, clinic_id=actor.clinic_id)
            .first()
        )
        if course is None:
            raise Http404("Course not found.")
    else:
        raise Refused(
            "Choose today's appointment (or the course, for a session without one).",
            field="appointment_id",
            code="required",
        )
    if course is None:  # pragma: no cover - a session appointment always has its course
        raise Refused("The appointment has no course.", field="appointment_id", code="no_course")
    patient = course.patient
    if course.status != CourseStatus.ACTIVE:
        raise Refused(
            f"The course is {course.get_status_display().lower()}.",
            field="course_id",
            code="course_not_active",
        )
    open_session = (
        TreatmentSession.objects.filter(clinic_id=actor.clinic_id, patient=patient)
        .exclude(status__in=states.FINISHED)
        .first()
    )
    if open_session is not None:
        raise Conflict(
            f"{patient.display_name} already has an open session (checked in "
            f"{open_session.checked_in_at.astimezone(zone):%a %H:%M}).",
            field="course_id",
            code="session_open",
        )
    _ensure_may_treat(course)
    protocol = get_protocol(course.protocol_id)
    past = [
        local_date(moment, zone)
        for moment in TreatmentSession.objects.filter(
            clinic_id=actor.clinic_id, course=course, dosing_started_at__isnull=False
        ).values_list("dosing_started_at", flat=True)
        if moment is not None
    ]
    verdict = check_session(
        protocol, local_date(now, zone), past, sessions_in_course=course.planned_sessions
    )
    if not verdict.allowed:
        raise Refused(verdict.reason, field="course_id", code=verdict.code)
    session = TreatmentSession.objects.create(
        clinic=actor.clinic,
        patient=patient,
        course=course,
        appointment=appointment,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        route=protocol.route,
        status=S.CHECKED_IN,
        created_by=actor.user,
        created_at=now,
        checked_in_by=actor.user,
        checked_in_at=now,
    )
    if appointment is not None:
        if appointment.status == AppointmentStatus.BOOKED:
            appointment_set_status(
                actor=actor, appointment=appointment, status=AppointmentStatus.ARRIVED, now=now
            )
        appointment_set_status(
            actor=actor, appointment=appointment, status=AppointmentStatus.IN_SESSION, now=now
        )
    _audit(
        actor,
        AuditAction.CREATE,
        "treatment_session",
        session.pk,
        session,
        {"course_id": course.pk, "appointment_id": appointment_id, "protocol": protocol.id},
    )
    _settle(actor, idempotency_key, session, session.pk)
    return session


def _ensure_may_treat(course: Course) -> None:
    """Consent to the route in force and a screening that allows treatment, or refuse."""
    patient = course.patient
    consent = consent_status(patient=patient, route=course.route)
    if not consent.has_consent:
        raise Refused(
            f"{patient.display_name} has no consent in force for {course.route} treatment.",
            field="course_id",
            code="no_consent",
        )
    if consent.needs_reconsent:
        raise Refused(
            "A newer consent text was published: the patient must re-consent before treatment.",
            field="course_id",
            code="reconsent_needed",
        )
    screening = screening_current_for(patient=patient, route=course.route)
    if screening is None or not screening_allows_treatment(screening):
        raise Refused(
            "The patient's current screening does not allow treatment (not signed, superseded, "
            "or needs a reason and co-signature).",
            field="course_id",
            code="screening",
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


# --- the dose -----------------------------------------------------------------------------------


@transaction.atomic
def dose_order_create(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    inputs: Mapping[str, Any],
    override_reason: str | None = None,
) -> DoseOrder:
    """The prescriber orders the dose the core computes from today's weight.

    A warning outside the protocol's range needs `override_reason`; a hard stop is refused
    whatever the reason.
    """
    session, replayed = _begin_versioned_step(
        actor,
        Permission.DOSE_ORDER,
        session_id,
        idempotency_key,
        "dose_order",
        DoseOrder,
        version=version,
        target=S.ORDERED,
    )
    if replayed is not None:
        return replayed
    clearance = _clearance(session)
    if not clearance.may_start:
        raise Refused(clearance.reason, field="status", code="start_not_cleared")
    pre_check = _current_pre_check(session)
    if pre_check is None:  # pragma: no cover - a pre-checked session has its check
        raise Refused("Record the pre-dose checks first.", field="status", code="no_pre_check")
    reason = _text(override_reason, "override_reason", required=False) or None
    now = clock.now()
    plan = compute_plan(
        session=session,
        pre_check=pre_check,
        inputs=dict(inputs),
        override_reason=reason,
        today=local_date(now, clinic_zone(actor.clinic)),
    )
    plan.ensure_may_proceed()
    fields = order_fields(plan)
    container = inputs.get("container_volume_ml")
    order = DoseOrder.objects.create(
        clinic=actor.clinic,
        session=session,
        pre_check=pre_check,
        route=session.route,
        inputs={k: (str(v) if v is not None else None) for k, v in inputs.items()},
        plan=plan_as_json(plan),
        container_volume_ml=Decimal(str(container)) if container is not None else None,
        ordered_by=actor.user,
        ordered_at=now,
        **fields,
    )
    _move(session, S.ORDERED)
    _audit(
        actor,
        AuditAction.SIGN,
        "dose_order",
        order.pk,
        session,
        {
            "dose_mg": str(order.dose_mg),
            "warnings": [w["code"] for w in order.warnings],
            "override_reason": bool(order.override_reason),
        },
    )
    _settle(actor, idempotency_key, session, order.pk)
    return order


@transaction.atomic
def dose_order_verify(
    *, actor: Actor, session_id: int, version: int, idempotency_key: str
) -> DoseOrder:
    """A second clinician, not the orderer, verifies the order; the core recomputes it first."""
    session, replayed = _begin_versioned_step(
        actor,
        Permission.DOSE_VERIFY,
        session_id,
        idempotency_key,
        "dose_verify",
        DoseOrder,
        version=version,
        target=S.VERIFIED,
    )
    if replayed is not None:
        return replayed
    order = _live_order(session)
    if order is None or order.status != DoseOrderStatus.ORDERED:
        raise Refused("There is no order awaiting verification.", field="status", code="no_order")
    if order.ordered_by_id == actor.user.pk:
        raise Refused(
            "You ordered this dose: a second clinician must verify it.",
            field="verified_by",
            code="same_person",
        )
    recomputed = compute_plan(
        session=session,
        pre_check=order.pre_check,
        inputs={k: v for k, v in order.inputs.items() if v is not None},
        override_reason=order.override_reason or None,
        today=local_date(order.ordered_at, clinic_zone(actor.clinic)),
    )
    if recomputed.dose_mg != order.dose_mg or recomputed.volume_ml != order.volume_ml:
        raise Conflict(
            "The dose no longer recomputes to the ordered amount; the prescriber must reorder.",
            field="dose_mg",
            code="order_changed",
        )
    order.status = DoseOrderStatus.VERIFIED
    order.verified_by = actor.user
    order.verified_at = clock.now()
    order.save(update_fields=["status", "verified_by", "verified_at"])
    _move(session, S.VERIFIED)
    _audit(actor, AuditAction.SIGN, "dose_verification", order.pk, session)
    _settle(actor, idempotency_key, session, order.pk)
    return order


@transaction.atomic
def dose_order_reject(
    *, actor: Actor, session_id: int, version: int, idempotency_key: str, reason: str
) -> DoseOrder:
    """The verifier (or the orderer) sends the order back with a reason; a new one is needed."""
    session, replayed = _begin_versioned_step(
        actor,
        Permission.DOSE_VERIFY,
        session_id,
        idempotency_key,
        "dose_reject",
        DoseOrder,
        version=version,
        target=S.PRE_CHECKED,
    )
    if replayed is not None:
        return replayed
    order = _live_order(session)
    if order is None or order.status != DoseOrderStatus.ORDERED:
        raise Refused("There is no order awaiting verification.", field="status", code="no_order")
    order.status = DoseOrderStatus.REJECTED
    order.rejected_by = actor.user
    order.rejected_at = clock.now()
    order.rejection_reason = _text(reason, "reason")
    order.save(update_fields=["status", "rejected_by", "rejected_at", "rejection_reason"])
    _move(session, S.PRE_CHECKED)
    _audit(actor, AuditAction.UPDATE, "dose_order", order.pk, session, {"rejected": True})
    _settle(actor, idempotency_key, session, order.pk)
    return order


# --- administration -----------------------------------------------------------------------------


def _must_match(given: Decimal | None, ordered: Decimal | None, field: str, what: str) -> None:
    if ordered is None:
        return
    if given is None:
        raise Refused(f"Enter the {what} as verified ({ordered}).", field=field, code="required")
    if Decimal(given) != ordered:
        raise Refused(
            f"The {what} ({given}) differs from the verified order ({ordered}). Give the dose as "
            "verified; changes to a running infusion are recorded as a slow-down or stop.",
            field=field,
            code="differs_from_order",
        )


@transaction.atomic
def administration_start(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    product: str,
    lot: str,
    concentration_mg_per_ml: Decimal | None = None,
    volume_ml: Decimal | None = None,
    rate_ml_per_h: Decimal | None = None,
    started_at: datetime | None = None,
) -> Administration:
    """Start giving the verified dose (for esketamine, the first device), if nothing holds it.

    Refused without a verification by a second clinician, and while the start blood pressure,
    a pre-dose finding or a missing decision holds the start.
    """
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "administration_start",
        Administration,
        version=version,
    )
    if replayed is not None:
        return replayed
    order = _live_order(session)
    if order is None or order.status != DoseOrderStatus.VERIFIED or order.verified_by_id is None:
        raise Refused(
            "The dose has not been verified by a second clinician.",
            field="status",
            code="not_verified",
        )
    if order.verified_by_id == order.ordered_by_id:  # also a database constraint
        raise Refused(
            "The dose was verified by the person who ordered it.",
            field="status",
            code="same_person",
        )
    states.ensure_transition(session.status, S.DOSING)
    clearance = _clearance(session)
    if not clearance.may_start:
        code = "start_blocked" if clearance.blocking else "start_needs_decision"
        raise Refused(clearance.reason, field="status", code=code)
    protocol = protocol_of(session)
    route = protocol.route
    if route == "iv":
        _must_match(
            concentration_mg_per_ml,
            order.concentration_mg_per_ml,
            "concentration_mg_per_ml",
            "concentration",
        )
        _must_match(volume_ml, order.volume_ml, "volume_ml", "volume")
        _must_match(rate_ml_per_h, order.rate_ml_per_h, "rate_ml_per_h", "pump rate")
    elif route == "im":
        _must_match(
            concentration_mg_per_ml,
            order.concentration_mg_per_ml,
            "concentration_mg_per_ml",
            "concentration",
        )
        _must_match(volume_ml, order.volume_ml, "volume_ml", "volume")
    moment = _event_time(session, started_at, "started_at", not_before=order.verified_at)
    administration = Administration.objects.create(
        clinic=actor.clinic,
        session=session,
        dose_order=order,
        product=_text(product, "product"),
        lot=_text(lot, "lot"),
        concentration_mg_per_ml=order.concentration_mg_per_ml,
        volume_ml=order.volume_ml,
        rate_ml_per_h=order.rate_ml_per_h,
        current_rate_ml_per_h=order.rate_ml_per_h,
        started_at=moment,
        started_by=actor.user,
    )
    _move(session, S.DOSING, dosing_started_at=moment)
    single_shot = route in ("im", "sublingual", "oral") or (
        route == "esketamine" and (order.devices or 0) <= 1
    )
    if route == "esketamine":
        EsketamineDevice.objects.create(
            clinic=actor.clinic,
            administration=administration,
            number=1,
            administered_at=moment,
            recorded_by=actor.user,
            recorded_at=clock.now(),
        )
    if single_shot:
        _end_dosing(actor, session, administration, AdministrationState.COMPLETED, moment)
    _audit(
        actor,
        AuditAction.CREATE,
        "administration",
        administration.pk,
        session,
        {"dose_order_id": order.pk, "lot": administration.lot, "product": administration.product},
    )
    _settle(actor, idempotency_key, session, administration.pk)
    return administration


def _end_dosing(
    actor: Actor,
    session: TreatmentSession,
    administration: Administration,
    state: str,
    at: datetime,
) -> None:
    administration.state = state
    administration.stopped_at = at
    administration.stopped_by = actor.user
    administration.save(update_fields=["state", "stopped_at", "stopped_by"])
    _move(session, S.OBSERVATION, dosing_ended_at=at)


def _administration(session: TreatmentSession) -> Administration:
    administration = Administration.objects.filter(session=session).first()
    if administration is None:
        raise Refused("Dosing has not started.", field="status", code="not_started")
    return administration


@transaction.atomic
def esketamine_device_record(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    administered_at: datetime | None = None,
) -> EsketamineDevice:
    """Record the next esketamine device, not before the label's rest after the previous one."""
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "esketamine_device",
        EsketamineDevice,
        version=version,
    )
    if replayed is not None:
        return replayed
    if session.route != "esketamine":
        raise Refused("Devices are for esketamine sessions.", field="status", code="route")
    states.ensure_status_in(session.status, frozenset({S.DOSING}), "record a device")
    administration = _administration(session)
    order = administration.dose_order
    devices = list(administration.devices.order_by("number"))
    if len(devices) >= (order.devices or 0):
        raise Refused(
            f"All {order.devices} devices of the order are recorded.",
            field="number",
            code="all_devices_given",
        )
    last = devices[-1]
    moment = _event_time(
        session, administered_at, "administered_at", not_before=last.administered_at
    )
    rest = timedelta(minutes=order.rest_between_devices_min or 0)
    if moment - last.administered_at < rest:
        earliest = (last.administered_at + rest).astimezone(clinic_zone(session.clinic))
        raise Refused(
            f"The label asks for {order.rest_between_devices_min} minutes' rest between devices: "
            f"device {last.number + 1} not before {earliest:%H:%M}.",
            field="administered_at",
            code="rest_between_devices",
        )
    device = EsketamineDevice.objects.create(
        clinic=actor.clinic,
        administration=administration,
        number=last.number + 1,
        administered_at=moment,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    if device.number == order.devices:
        _end_dosing(actor, session, administration, AdministrationState.COMPLETED, moment)
    else:
        _move(session)
    _audit(actor, AuditAction.CREATE, "esketamine_device", device.pk, session, {"n": device.number})
    _settle(actor, idempotency_key, session, device.pk)
    return device


@transaction.atomic
def infusion_change_record(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    kind: str,
    reason: str,
    rate_ml_per_h: Decimal | None = None,
    at: datetime | None = None,
    monitoring_entry_id: int | None = None,
) -> InfusionChange:
    """Pause, resume, slow or stop the dosing, with a reason; stopping starts the observation."""
    session, replayed = _begin_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "infusion_change",
        InfusionChange,
    )
    if replayed is not None:
        return replayed
    change = _apply_change(
        actor,
        session,
        kind=kind,
        reason=reason,
        rate_ml_per_h=rate_ml_per_h,
        at=at,
        monitoring_entry_id=monitoring_entry_id,
    )
    _settle(actor, idempotency_key, session, change.pk)
    return change


def _apply_change(
    actor: Actor,
    session: TreatmentSession,
    *,
    kind: str,
    reason: str,
    rate_ml_per_h: Decimal | None,
    at: datetime | None,
    monitoring_entry_id: int | None,
) -> InfusionChange:
    states.ensure_status_in(session.status, frozenset({S.DOSING}), "change the dosing")
    administration = _administration(session)
    if kind not in InfusionChangeKind.values:
        raise Refused("Choose pause, resume, slow or stop.", field="kind", code="choice")
    if session.route != "iv" and kind != InfusionChangeKind.STOP:
        raise Refused(
            "Only an infusion can be paused, resumed or slowed; stop the dosing instead.",
            field="kind",
            code="not_an_infusion",
        )
    text = _text(reason, "reason")
    last_change = administration.changes.order_by("-at", "-id").first()
    floor = last_change.at if last_change else administration.started_at
    moment = _event_time(session, at, "at", not_before=floor)
    state = administration.state
    running, paused = AdministrationState.RUNNING, AdministrationState.PAUSED
    allowed_from = {
        InfusionChangeKind.PAUSE: {running},
        InfusionChangeKind.RESUME: {paused},
        InfusionChangeKind.SLOW: {running, paused},
        InfusionChangeKind.STOP: {running, paused},
    }[InfusionChangeKind(kind)]
    if state not in allowed_from:
        raise Refused(
            f"The dosing is {AdministrationState(state).label.lower()}: "
            f"'{InfusionChangeKind(kind).label.lower()}' does not apply.",
            field="kind",
            code="invalid_change",
        )
    new_rate = None
    if kind == InfusionChangeKind.SLOW:
        current = administration.current_rate_ml_per_h
        if rate_ml_per_h is None or rate_ml_per_h <= 0:
            raise Refused("Give the new, lower pump rate.", field="rate_ml_per_h", code="required")
        if current is not None and Decimal(rate_ml_per_h) >= current:
            raise Refused(
                f"Slowing needs a rate below the current {current} mL/h.",
                field="rate_ml_per_h",
                code="not_slower",
            )
        new_rate = Decimal(rate_ml_per_h)
    entry = None
    if monitoring_entry_id is not None:
        entry = MonitoringEntry.objects.filter(pk=monitoring_entry_id, session=session).first()
        if entry is None:
            raise Http404("Monitoring entry not found.")
    change = InfusionChange.objects.create(
        clinic=actor.clinic,
        administration=administration,
        kind=kind,
        at=moment,
        rate_ml_per_h=new_rate,
        reason=text,
        monitoring_entry=entry,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    if kind == InfusionChangeKind.STOP:
        _end_dosing(actor, session, administration, AdministrationState.STOPPED, moment)
    else:
        administration.state = {
            InfusionChangeKind.PAUSE: paused,
            InfusionChangeKind.RESUME: running,
            InfusionChangeKind.SLOW: state,
        }[InfusionChangeKind(kind)]
        if new_rate is not None:
            administration.current_rate_ml_per_h = new_rate
        administration.save(update_fields=["state", "current_rate_ml_per_h"])
        _move(session)
    _audit(
        actor,
        AuditAction.UPDATE,
        "infusion_change",
        change.pk,
        session,
        {"kind": kind, "rate_ml_per_h": str(new_rate) if new_rate else None},
    )
    return change


@transaction.atomic
def administration_complete(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    stopped_at: datetime | None = None,
    volume_infused_ml: Decimal | None = None,
) -> Administration:
    """The infusion ran to its end: record the stop time and the volume given."""
    session, replayed = _begin_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "administration_complete",
        Administration,
    )
    if replayed is not None:
        return replayed
    states.ensure_status_in(session.status, frozenset({S.DOSING}), "complete the infusion")
    administration = _administration(session)
    if session.route != "iv":
        raise Refused("Only an infusion is completed this way.", field="status", code="route")
    if administration.state != AdministrationState.RUNNING:
        raise Refused(
            f"The infusion is {administration.get_state_display().lower()}; resume or stop it.",
            field="status",
            code="invalid_change",
        )
    if volume_infused_ml is not None:
        ordered = administration.volume_ml
        if volume_infused_ml < 0 or (ordered is not None and volume_infused_ml > ordered):
            raise Refused(
                f"The volume infused cannot exceed the {ordered} mL ordered.",
                field="volume_infused_ml",
                code="more_than_ordered",
            )
        administration.volume_infused_ml = volume_infused_ml
        administration.save(update_fields=["volume_infused_ml"])
    last_change = administration.changes.order_by("-at", "-id").first()
    floor = last_change.at if last_change else administration.started_at
    moment = _event_time(session, stopped_at, "stopped_at", not_before=floor)
    _end_dosing(actor, session, administration, AdministrationState.COMPLETED, moment)
    _audit(actor, AuditAction.UPDATE, "administration", administration.pk, session, {"done": True})
    _settle(actor, idempotency_key, session, administration.pk)
    return administration


# --- monitoring ---------------------------------------------------------------------------------


def _phase(session: TreatmentSession, moment: datetime) -> str:
    if session.dosing_started_at is None or moment < session.dosing_started_at:
        return MonitoringPhase.PRE_DOSE
    if session.dosing_ended_at is None or moment < session.dosing_ended_at:
        return MonitoringPhase.DOSING
    return MonitoringPhase.OBSERVATION


def _reading(
    actor: Actor,
    session: TreatmentSession,
    *,
    taken_at: datetime,
    values: Mapping[str, int | None],
    dissociation: str = "",
    respiratory_depression: bool = False,
    note: str = "",
) -> MonitoringEntry:
    """Store a reading with the alarms the core raises for it, given the readings before it."""
    protocol = protocol_of(session)
    earlier = list(
        MonitoringEntry.objects.filter(session=session, taken_at__lte=taken_at).order_by(
            "taken_at", "id"
        )
    )
    reading = VitalReading(
        taken_at=taken_at,
        systolic=values.get("systolic"),
        diastolic=values.get("diastolic"),
        heart_rate=values.get("heart_rate"),
        spo2=values.get("spo2"),
        moaas=values.get("moaas"),
    )
    history = [
        VitalReading(e.taken_at, e.systolic, e.diastolic, e.heart_rate, e.spo2, e.moaas)
        for e in earlier
    ]
    alarms = [
        {"code": a.code, "message": a.message, "action": a.action}
        for a in check_vitals(protocol, history, reading)
    ]
    phase = _phase(session, taken_at)
    if phase == MonitoringPhase.PRE_DOSE and reading.systolic and reading.diastolic:
        start = rules.start_vitals_alarm(protocol, reading.systolic, reading.diastolic)
        if start is not None:
            alarms.insert(0, start)
    return MonitoringEntry.objects.create(
        clinic=actor.clinic,
        session=session,
        phase=phase,
        taken_at=taken_at,
        dissociation=dissociation,
        respiratory_depression=respiratory_depression,
        note=note,
        alarms=alarms,
        recorded_by=actor.user,
        recorded_at=clock.now(),
        **{k: v for k, v in values.items() if v is not None},
    )


@transaction.atomic
def monitoring_entry_record(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    taken_at: datetime | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    heart_rate: int | None = None,
    spo2: int | None = None,
    moaas: int | None = None,
    dissociation: str = "",
    respiratory_depression: bool = False,
    note: str = "",
) -> MonitoringEntry:
    """Add a reading to the timeline; the core flags values outside the protocol's limits."""
    session, replayed = _begin_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "monitoring_entry",
        MonitoringEntry,
    )
    if replayed is not None:
        return replayed
    states.ensure_status_in(session.status, states.OPEN_FOR_READINGS, "add a reading")
    values = {
        "systolic": systolic,
        "diastolic": diastolic,
        "heart_rate": heart_rate,
        "spo2": spo2,
        "moaas": moaas,
    }
    text = _text(note, "note", required=False)
    if (systolic is None) != (diastolic is None):
        raise Refused(
            "Give both systolic and diastolic pressure.",
            field="diastolic" if diastolic is None else "systolic",
            code="incomplete_bp",
        )
    if dissociation and dissociation not in Dissociation.values:
        raise Refused("Choose a dissociation level.", field="dissociation", code="choice")
    if all(v is None for v in values.values()) and not dissociation and not text:
        raise Refused("Enter at least one observation.", field="systolic", code="empty")
    moment = _event_time(session, taken_at, "taken_at", not_before=session.checked_in_at)
    entry = _reading(
        actor,
        session,
        taken_at=moment,
        values=values,
        dissociation=dissociation,
        respiratory_depression=respiratory_depression,
        note=text,
    )
    _audit(
        actor,
        AuditAction.CREATE,
        "monitoring_entry",
        entry.pk,
        session,
        {"alarms": [a["code"] for a in entry.alarms]},
    )
    _settle(actor, idempotency_key, session, entry.pk)
    return entry


@transaction.atomic
def monitoring_action_record(
    *,
    actor: Actor,
    session_id: int,
    monitoring_entry_id: int,
    idempotency_key: str,
    action: str,
    note: str = "",
    rate_ml_per_h: Decimal | None = None,
) -> MonitoringEntry:
    """Record what was done about an out-of-limit reading; pausing, slowing or stopping does it."""
    session, replayed = _begin_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "monitoring_action",
        MonitoringEntry,
    )
    if replayed is not None:
        return replayed
    entry = MonitoringEntry.objects.filter(pk=monitoring_entry_id, session=session).first()
    if entry is None:
        raise Http404("Monitoring entry not found.")
    if not entry.alarms:
        raise Refused("This reading raised no alarm.", field="action", code="no_alarm")
    if entry.action:
        raise Conflict(
            f"{entry.get_action_display()} was already recorded for this reading.",
            field="action",
            code="already_recorded",
        )
    if action not in MonitoringAction.values:
        raise Refused("Choose what was done.", field="action", code="choice")
    text = _text(note, "note", required=action == MonitoringAction.OTHER)
    change_kind = {
        MonitoringAction.PAUSED: InfusionChangeKind.PAUSE,
        MonitoringAction.SLOWED: InfusionChangeKind.SLOW,
        MonitoringAction.STOPPED: InfusionChangeKind.STOP,
    }.get(MonitoringAction(action))
    if change_kind is not None:
        alarm_text = "; ".join(a["message"] for a in entry.alarms)
        _apply_change(
            actor,
            session,
            kind=change_kind,
            reason=f"{alarm_text}. {text}".strip(),
            rate_ml_per_h=rate_ml_per_h,
            at=None,
            monitoring_entry_id=entry.pk,
        )
    entry.action = action
    entry.action_note = text
    entry.action_by = actor.user
    entry.action_at = clock.now()
    entry.save(update_fields=["action", "action_note", "action_by", "action_at"])
    _audit(actor, AuditAction.UPDATE, "monitoring_entry", entry.pk, session, {"action": action})
    _settle(actor, idempotency_key, session, entry.pk)
    return entry


# --- adverse events -----------------------------------------------------------------------------


@transaction.atomic
def adverse_event_record(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    kind: str,
    severity: str,
    outcome: str,
    onset_at: datetime | None = None,
    description: str = "",
    intervention: str = "",
) -> AdverseEvent:
    """Record an adverse event: what, how severe, when, what was done and how it ended."""
    session, replayed = _begin_step(
        actor, Permission.SESSION_RUN, session_id, idempotency_key, "adverse_event", AdverseEvent
    )
    if replayed is not None:
        return replayed
    states.ensure_status_in(
        session.status, states.OPEN_FOR_ADVERSE_EVENTS, "record an adverse event"
    )
    for value, choices, field in (
        (kind, AdverseEventKind, "kind"),
        (severity, AdverseEventSeverity, "severity"),
        (outcome, AdverseEventOutcome, "outcome"),
    ):
        if value not in choices.values:
            raise Refused("Choose one of the options.", field=field, code="choice")
    text = _text(description, "description", required=kind == AdverseEventKind.OTHER)
    moment = _event_time(session, onset_at, "onset_at", not_before=session.checked_in_at)
    event = AdverseEvent.objects.create(
        clinic=actor.clinic,
        session=session,
        kind=kind,
        severity=severity,
        onset_at=moment,
        description=text,
        intervention=_text(intervention, "intervention", required=False),
        outcome=outcome,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    _audit(
        actor,
        AuditAction.CREATE,
        "adverse_event",
        event.pk,
        session,
        {"kind": kind, "severity": severity},
    )
    _settle(actor, idempotency_key, session, event.pk)
    return event


# --- discharge and cancelling -------------------------------------------------------------------


def unanswered_alarms(entries: Sequence[MonitoringEntry]) -> list[MonitoringEntry]:
    """Readings whose alarm has no recorded action (pre-dose start limits aside)."""
    return [e for e in entries if e.phase != MonitoringPhase.PRE_DOSE and e.alarms and not e.action]


@transaction.atomic
def discharge_record(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    criteria: Mapping[str, bool],
    escort_name: str = "",
    ready_at: datetime | None = None,
    override_reason: str = "",
) -> Discharge:
    """Discharge after the minimum observation with every criterion met, per the core.

    Earlier, with a criterion unmet, or with an alarm nobody answered, only a prescriber may
    discharge, recording why.
    """
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "discharge",
        Discharge,
        version=version,
        target=S.DISCHARGED,
    )
    if replayed is not None:
        return replayed
    if session.dosing_ended_at is None:  # pragma: no cover - observation follows dosing
        raise Refused("Dosing has not ended.", field="status", code="not_ended")
    protocol = protocol_of(session)
    now = clock.now()
    check = discharge_check(protocol, session.dosing_ended_at, now, dict(criteria))
    silent = unanswered_alarms(list(MonitoringEntry.objects.filter(session=session)))
    problems = [check.reason] if not check.may_discharge else []
    if silent:
        zone = clinic_zone(session.clinic)
        problems.append(
            "no action recorded for the alarm at "
            + ", ".join(f"{e.taken_at.astimezone(zone):%H:%M}" for e in silent)
        )
    reason = _text(override_reason, "override_reason", required=False)
    override_by = None
    if problems:
        if not reason:
            raise Refused(
                "Discharge refused: " + "; ".join(problems) + ".",
                field="criteria" if not check.remaining_minutes else "discharged_at",
                code="discharge_refused",
            )
        if not actor.can(Permission.CLINICAL_DECISION):
            raise Refused(
                "Discharge refused: "
                + "; ".join(problems)
                + ". Only a prescriber may discharge early, recording why.",
                field="override_reason",
                code="override_needs_prescriber",
            )
        override_by = actor.user
    else:
        reason = ""
    if protocol.route == "esketamine" and ready_at is None:
        raise Refused(
            "Record when the patient was clinically ready (the REMS monitoring form asks).",
            field="ready_at",
            code="required",
        )
    if ready_at is not None:
        _event_time(session, ready_at, "ready_at", not_before=session.dosing_started_at)
    discharge = Discharge.objects.create(
        clinic=actor.clinic,
        session=session,
        criteria={
            name: bool(criteria.get(name)) for name in protocol.monitoring.discharge_criteria
        },
        discharge_check={
            "may_discharge": check.may_discharge,
            "remaining_minutes": check.remaining_minutes,
            "unmet_criteria": check.unmet_criteria,
            "reason": check.reason,
            "unanswered_alarm_ids": [e.pk for e in silent],
        },
        escort_name=_text(escort_name, "escort_name", required=False),
        ready_at=ready_at,
        observed_minutes=int((now - session.dosing_ended_at).total_seconds() // 60),
        discharged_by=actor.user,
        discharged_at=now,
        override_reason=reason,
        override_by=override_by,
    )
    _move(session, S.DISCHARGED, discharged_at=now)
    _set_appointment(actor, session, AppointmentStatus.COMPLETED)
    _audit(
        actor,
        AuditAction.SIGN if override_by else AuditAction.CREATE,
        "discharge",
        discharge.pk,
        session,
        {"override": bool(override_by), "unmet": check.unmet_criteria},
    )
    _settle(actor, idempotency_key, session, discharge.pk)
    return discharge


@transaction.atomic
def session_cancel(
    *, actor: Actor, session_id: int, version: int, idempotency_key: str, reason: str
) -> TreatmentSession:
    """End a session before any dose is given, with the reason (e.g. the patient left)."""
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "cancel",
        TreatmentSession,
        version=version,
        target=S.CANCELLED,
    )
    if replayed is not None:
        return replayed
    text = _text(reason, "reason")
    live = _live_order(session)
    if live is not None:
        DoseOrder.objects.filter(pk=live.pk).update(
            status=DoseOrderStatus.REJECTED,
            rejected_by=actor.user,
            rejected_at=clock.now(),
            rejection_reason=f"Session cancelled: {text}",
        )
    _move(session, S.CANCELLED, cancelled_at=clock.now(), cancel_reason=text)
    _set_appointment(actor, session, AppointmentStatus.NOT_DOSED)
    _audit(actor, AuditAction.UPDATE, "treatment_session", session.pk, session, {"cancelled": True})
    _settle(actor, idempotency_key, session, session.pk)
    return session
