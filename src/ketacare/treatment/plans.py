"""Turn a session into the core's dose calculation, and the core's plan into stored JSON."""

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from ketacare.clinical.dosing import DosePlan
from ketacare.clinical.history import PastDose, titration
from ketacare.clinical.ordering import DoseRequest, plan_dose
from ketacare.clinical.protocols import Protocol, get_protocol
from ketacare.patients.models import PatientSexChoices
from ketacare.scheduling.selectors import clinic_zone, local_date
from ketacare.treatment.models import (
    DoseOrder,
    DoseOrderStatus,
    PreDoseCheck,
    SessionStatus,
    TreatmentSession,
)

DOSE_INPUTS = (
    "mg_per_kg",
    "dose_mg",
    "concentration_mg_per_ml",
    "container_volume_ml",
    "duration_min",
)


def protocol_of(session: TreatmentSession) -> Protocol:
    """The protocol the session runs under."""
    return get_protocol(session.protocol_id)


def _previous_orders(session: TreatmentSession) -> list[tuple[date, DoseOrder]]:
    """Verified orders of the course's earlier dosed sessions, oldest first, with their dates."""
    orders = (
        DoseOrder.objects.filter(
            clinic_id=session.clinic_id,
            session__course_id=session.course_id,
            session__dosing_started_at__isnull=False,
            status=DoseOrderStatus.VERIFIED,
        )
        .exclude(session_id=session.pk)
        .select_related("session")
        .order_by("session__dosing_started_at", "id")
    )
    zone = clinic_zone(session.clinic)
    return [
        (local_date(o.session.dosing_started_at, zone), o)
        for o in orders
        if o.session.dosing_started_at is not None
    ]


def is_first_treatment(session: TreatmentSession) -> bool:
    """No earlier dosed session of this route for the patient (the label's day 1; REMS asks)."""
    return not (
        TreatmentSession.objects.filter(
            clinic_id=session.clinic_id,
            patient_id=session.patient_id,
            route=session.route,
            dosing_started_at__isnull=False,
        )
        .exclude(pk=session.pk)
        .exclude(status=SessionStatus.CANCELLED)
        .filter(checked_in_at__lt=session.checked_in_at)
        .exists()
    )


def dose_request(
    *,
    session: TreatmentSession,
    pre_check: PreDoseCheck,
    inputs: dict[str, Any],
    override_reason: str | None,
    today: date,
) -> DoseRequest:
    """The facts the core calculates a dose from: today's weight, the chart, the course so far."""
    previous = _previous_orders(session)
    return DoseRequest(
        actual_weight_kg=pre_check.weight_kg,
        height_cm=pre_check.height_cm,
        sex=_sex(session),
        inputs=inputs,
        titration=titration(
            [PastDose(day, order.dose_mg, order.mg_per_kg) for day, order in previous], today
        ),
        first_session=is_first_treatment(session),
        override_reason=override_reason,
    )


def compute_plan(
    *,
    session: TreatmentSession,
    pre_check: PreDoseCheck,
    inputs: dict[str, Any],
    override_reason: str | None,
    today: date,
) -> DosePlan:
    """The core's dose plan from today's weight, the chart's height and sex, and the history."""
    request = dose_request(
        session=session,
        pre_check=pre_check,
        inputs=inputs,
        override_reason=override_reason,
        today=today,
    )
    return plan_dose(protocol_of(session), request)


def _sex(session: TreatmentSession) -> str | None:
    sex = session.patient.sex
    return sex if sex in (PatientSexChoices.FEMALE, PatientSexChoices.MALE) else None


def plan_as_json(plan: DosePlan) -> dict[str, Any]:
    """The plan with every step, Decimals as strings so nothing is rounded on the way."""
    return _jsonable(asdict(plan))  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def order_fields(plan: DosePlan) -> dict[str, Any]:
    """The plan's numbers as DoseOrder columns."""
    weight = plan.dosing_weight
    return {
        "dose_mg": plan.dose_mg,
        "mg_per_kg": plan.mg_per_kg,
        "dosing_weight_kg": weight.weight_kg if weight else None,
        "weight_basis": weight.basis if weight else "",
        "concentration_mg_per_ml": plan.concentration_mg_per_ml,
        "volume_ml": plan.volume_ml,
        "duration_min": plan.duration_min,
        "rate_ml_per_h": plan.rate_ml_per_h,
        "devices": plan.devices,
        "rest_between_devices_min": plan.rest_between_devices_min,
        "warnings": [{"code": w.code, "message": w.message} for w in plan.warnings],
        "override_reason": plan.override_reason or "",
    }
