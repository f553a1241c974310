"""The sessions API: every step of a session, as on the chair-side page, through the same services.

Every POST step needs an `Idempotency-Key` header (8-64 letters, digits or `-_.:`): a retry
with the same key answers with the first result and records nothing twice. Steps that decide
something name the session `version` they were decided on; a stale one answers 409.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.kernel.idempotency import IdempotencyKeyHeader
from ketacare.treatment import selectors, services
from ketacare.treatment.models import (
    Administration,
    AdverseEvent,
    Discharge,
    DoseOrder,
    EsketamineDevice,
    InfusionChange,
    MonitoringEntry,
    PreDoseCheck,
    StartDecision,
    TreatmentSession,
)
from ketacare.treatment.plans import plan_as_json
from ketacare.treatment.schemas import (
    AdministrationIn,
    AdministrationOut,
    AdverseEventIn,
    AdverseEventOut,
    CheckInIn,
    CompleteIn,
    DayParams,
    DayRowOut,
    DeviceIn,
    DeviceOut,
    DischargeIn,
    DischargeOut,
    DoseInputs,
    DoseOrderIn,
    DoseOrderOut,
    DosePlanOut,
    InfusionChangeIn,
    InfusionChangeOut,
    MonitoringActionIn,
    MonitoringEntryIn,
    MonitoringEntryOut,
    PreDoseCheckIn,
    PreDoseCheckOut,
    ReasonIn,
    RemsRecordOut,
    SessionDetailOut,
    SessionOut,
    StartDecisionIn,
    StartDecisionOut,
    VersionIn,
)

router = Router(tags=["sessions"])

SESSION = "/sessions/{session_id}"


@operation(router.get, "/sessions", Permission.SESSION_VIEW, response=list[DayRowOut])
def list_sessions(request: HttpRequest, params: Query[DayParams]) -> list[dict[str, Any]]:
    """The day's appointments and sessions (by default today, in the clinic's time zone)."""
    actor = api_actor(request)
    day = params.day or selectors.today(actor=actor)
    return [
        {
            "appointment_id": row.appointment.pk if row.appointment else None,
            "appointment_status": row.appointment.status if row.appointment else None,
            "starts_at": row.starts_at,
            "patient_id": row.patient.pk,
            "session": row.session,
        }
        for row in selectors.sessions_for_day(actor=actor, day=day)
    ]


@operation(router.post, "/sessions", Permission.SESSION_RUN, response={201: SessionOut})
def check_in(
    request: HttpRequest, payload: CheckInIn, idempotency_key: IdempotencyKeyHeader
) -> Status[TreatmentSession]:
    """Check a patient in: for today's appointment, or for a course without one."""
    session = services.session_check_in(
        actor=api_actor(request),
        idempotency_key=idempotency_key,
        appointment_id=payload.appointment_id,
        course_id=payload.course_id,
    )
    return Status(201, session)


@operation(router.get, SESSION, Permission.SESSION_VIEW, response=SessionDetailOut)
def get_session(request: HttpRequest, session_id: int) -> dict[str, Any]:
    """Everything recorded in a session, with the start clearance, observation and due readings."""
    record = selectors.session_record(actor=api_actor(request), session_id=session_id)
    session = record.session
    clearance = record.clearance
    return {
        **{f: getattr(session, f) for f in SessionOut.model_fields if f != "checked_in_by"},
        "checked_in_by": session.checked_in_by,
        "pre_check": record.pre_check,
        "start_decisions": record.decisions,
        "dose_orders": record.orders,
        "administration": record.administration,
        "monitoring": record.entries,
        "adverse_events": record.adverse_events,
        "discharge": record.discharge,
        "clearance": {
            "may_start": clearance.may_start,
            "needs_decision": clearance.needs_decision,
            "reason": clearance.reason,
            "concerns": [c.as_json() for c in clearance.concerns],
        },
        "observation": {
            "minimum_minutes": record.protocol.monitoring.observation_min,
            "ends_at": record.observation_ends_at,
            "remaining_minutes": record.observation_remaining_minutes,
        },
        "due": record.due,
        "discharge_criteria": list(record.protocol.monitoring.discharge_criteria),
    }


@operation(
    router.post,
    f"{SESSION}/pre-dose-checks",
    Permission.SESSION_RUN,
    response={201: PreDoseCheckOut},
)
def record_pre_dose_check(
    request: HttpRequest,
    session_id: int,
    payload: PreDoseCheckIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Status[PreDoseCheck]:
    """Weight, vital signs, checklist, PHQ-9 and C-SSRS; the core checks the start limits."""
    data = payload.model_dump()
    check = services.predose_check_record(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        **data,
    )
    return Status(201, check)


@operation(
    router.post,
    f"{SESSION}/start-decisions",
    Permission.CLINICAL_DECISION,
    response={201: StartDecisionOut},
)
def record_start_decision(
    request: HttpRequest,
    session_id: int,
    payload: StartDecisionIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Status[StartDecision]:
    """A prescriber decides, with a reason, on what holds the start (not on a hard block)."""
    decision = services.start_decision_record(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        version=payload.version,
        decision=payload.decision,
        reason=payload.reason,
    )
    return Status(201, decision)


@operation(router.post, f"{SESSION}/dose-plan", Permission.DOSE_ORDER, response=DosePlanOut)
def preview_dose_plan(request: HttpRequest, session_id: int, payload: DoseInputs) -> dict[str, Any]:
    """What the core calculates for these inputs, every step shown; nothing is saved."""
    inputs = payload.inputs()
    inputs["override_reason"] = payload.override_reason
    plan = selectors.dose_plan_preview(
        actor=api_actor(request), session_id=session_id, inputs=inputs
    )
    return {**plan_as_json(plan), "requires_reason": plan.requires_reason}


@operation(
    router.post, f"{SESSION}/dose-order", Permission.DOSE_ORDER, response={201: DoseOrderOut}
)
def order_dose(
    request: HttpRequest,
    session_id: int,
    payload: DoseOrderIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Status[DoseOrder]:
    """Order the dose the core computes from today's weight; hard stops are refused."""
    order = services.dose_order_create(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        version=payload.version,
        inputs=payload.inputs(),
        override_reason=payload.override_reason,
    )
    return Status(201, order)


@operation(
    router.post, f"{SESSION}/dose-order/verify", Permission.DOSE_VERIFY, response=DoseOrderOut
)
def verify_dose(
    request: HttpRequest, session_id: int, payload: VersionIn, idempotency_key: IdempotencyKeyHeader
) -> DoseOrder:
    """A second clinician (never the orderer) verifies the order."""
    return services.dose_order_verify(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        version=payload.version,
    )


@operation(
    router.post, f"{SESSION}/dose-order/reject", Permission.DOSE_VERIFY, response=DoseOrderOut
)
def reject_dose(
    request: HttpRequest, session_id: int, payload: ReasonIn, idempotency_key: IdempotencyKeyHeader
) -> DoseOrder:
    """Send the order back to the prescriber, with the reason."""
    return services.dose_order_reject(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        version=payload.version,
        reason=payload.reason,
    )


@operation(
    router.post,
    f"{SESSION}/administration",
    Permission.SESSION_RUN,
    response={201: AdministrationOut},
)
def start_administration(
    request: HttpRequest,
    session_id: int,
    payload: AdministrationIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Status[Administration]:
    """Start giving the verified dose (esketamine: the first device); refused while anything
    holds the start."""
    data = payload.model_dump()
    administration = services.administration_start(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        **data,
    )
    return Status(201, administration)


@operation(
    router.post,
    f"{SESSION}/administration/devices",
    Permission.SESSION_RUN,
    response={201: DeviceOut},
)
def record_device(
    request: HttpRequest, session_id: int, payload: DeviceIn, idempotency_key: IdempotencyKeyHeader
) -> Status[EsketamineDevice]:
    """The next esketamine device, not before the label's rest after the previous one."""
    device = services.esketamine_device_record(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        version=payload.version,
        administered_at=payload.administered_at,
    )
    return Status(201, device)


@operation(
    router.post,
    f"{SESSION}/administration/changes",
    Permission.SESSION_RUN,
    response={201: InfusionChangeOut},
)
def change_dosing(
    request: HttpRequest,
    session_id: int,
    payload: InfusionChangeIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Status[InfusionChange]:
    """Pause, resume, slow or stop the dosing, with a reason (no version: never blocked)."""
    change = services.infusion_change_record(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        **payload.model_dump(),
    )
    return Status(201, change)


@operation(
    router.post,
    f"{SESSION}/administration/complete",
    Permission.SESSION_RUN,
    response=AdministrationOut,
)
def complete_administration(
    request: HttpRequest,
    session_id: int,
    payload: CompleteIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Administration:
    """The infusion ran to its end: observation starts."""
    return services.administration_complete(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        **payload.model_dump(),
    )


@operation(
    router.get, f"{SESSION}/monitoring", Permission.SESSION_VIEW, response=list[MonitoringEntryOut]
)
def list_monitoring(request: HttpRequest, session_id: int) -> list[MonitoringEntry]:
    """The session's readings in time order, with their alarms."""
    return selectors.session_timeline(actor=api_actor(request), session_id=session_id).entries


@operation(
    router.post,
    f"{SESSION}/monitoring",
    Permission.SESSION_RUN,
    response={201: MonitoringEntryOut},
)
def add_monitoring_entry(
    request: HttpRequest,
    session_id: int,
    payload: MonitoringEntryIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Status[MonitoringEntry]:
    """Add a reading; the core's alarms come back with it (each asks for an action)."""
    entry = services.monitoring_entry_record(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        **payload.model_dump(),
    )
    return Status(201, entry)


@operation(
    router.post,
    f"{SESSION}/monitoring/{{monitoring_entry_id}}/action",
    Permission.SESSION_RUN,
    response=MonitoringEntryOut,
)
def record_monitoring_action(
    request: HttpRequest,
    session_id: int,
    monitoring_entry_id: int,
    payload: MonitoringActionIn,
    idempotency_key: IdempotencyKeyHeader,
) -> MonitoringEntry:
    """What was done about an alarm; pausing, slowing or stopping changes the dosing too."""
    return services.monitoring_action_record(
        actor=api_actor(request),
        session_id=session_id,
        monitoring_entry_id=monitoring_entry_id,
        idempotency_key=idempotency_key,
        **payload.model_dump(),
    )


@operation(
    router.post,
    f"{SESSION}/adverse-events",
    Permission.SESSION_RUN,
    response={201: AdverseEventOut},
)
def record_adverse_event(
    request: HttpRequest,
    session_id: int,
    payload: AdverseEventIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Status[AdverseEvent]:
    """An adverse event: type, severity, time, intervention, outcome."""
    event = services.adverse_event_record(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        **payload.model_dump(),
    )
    return Status(201, event)


@operation(
    router.post, f"{SESSION}/discharge", Permission.SESSION_RUN, response={201: DischargeOut}
)
def discharge(
    request: HttpRequest,
    session_id: int,
    payload: DischargeIn,
    idempotency_key: IdempotencyKeyHeader,
) -> Status[Discharge]:
    """Discharge after the minimum observation with all criteria met; otherwise only a
    prescriber, with `override_reason`."""
    done = services.discharge_record(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        **payload.model_dump(),
    )
    return Status(201, done)


@operation(router.post, f"{SESSION}/cancel", Permission.SESSION_RUN, response=SessionOut)
def cancel_session(
    request: HttpRequest, session_id: int, payload: ReasonIn, idempotency_key: IdempotencyKeyHeader
) -> TreatmentSession:
    """End the session before dosing, with the reason."""
    return services.session_cancel(
        actor=api_actor(request),
        session_id=session_id,
        idempotency_key=idempotency_key,
        version=payload.version,
        reason=payload.reason,
    )


@operation(router.get, f"{SESSION}/rems-record", Permission.SESSION_VIEW, response=RemsRecordOut)
def rems_record(request: HttpRequest, session_id: int) -> dict[str, Any]:
    """The SPRAVATO REMS patient monitoring form's answers (esketamine sessions; else 422)."""
    rems = selectors.rems_record(actor=api_actor(request), session_id=session_id)
    session = rems.record.session
    patient = session.patient

    def bp(entry: MonitoringEntry | None) -> dict[str, Any] | None:
        if entry is None:
            return None
        return {
            "systolic": entry.systolic,
            "diastolic": entry.diastolic,
            "taken_at": entry.taken_at,
        }

    return {
        "session_id": session.pk,
        "patient_name": patient.display_name,
        "date_of_birth": patient.date_of_birth,
        "sex": patient.sex,
        "first_treatment": rems.first_treatment,
        "concomitant_medicine_classes": rems.medicine_classes,
        "medicines": rems.medicines,
        "monitoring_clinician": rems.monitoring_clinician,
        "setting": rems.setting,
        "treatment_date": selectors.local_day(session.checked_in_at, session.clinic),
        "dose_mg": rems.dose_mg,
        "lot": rems.lot,
        "first_device_at": rems.first_device_at,
        "monitoring_minutes": rems.monitoring_minutes,
        "ready_minutes": rems.ready_minutes,
        "vitals_acceptable_before_dosing": rems.vitals_acceptable_before_dosing,
        "vitals_acceptable_before_discharge": rems.vitals_acceptable_before_discharge,
        "bp_before_dosing": bp(rems.bp_before),
        "bp_at_40_minutes": bp(rems.bp_at_40),
        "bp_before_discharge": bp(rems.bp_before_discharge),
        "sedation": rems.sedation,
        "dissociation": rems.dissociation,
        "respiratory_depression": rems.respiratory_depression,
        "adverse_events": rems.adverse_events,
    }
