"""What the prescriber and the nurse see beside the dose: the preview, allergies, weights."""

from dataclasses import dataclass
from typing import Any

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.clinical.dosing import DosePlan
from ketacare.errors import Refused
from ketacare.patients.models import BodyMeasurement, ChartSection
from ketacare.patients.sections import AllergiesData
from ketacare.patients.selectors import measurements_of
from ketacare.treatment.models import (
    DoseOrder,
    DoseOrderStatus,
    PreDoseCheck,
    SessionStatus,
    TreatmentSession,
)
from ketacare.treatment.plans import compute_plan
from ketacare.treatment.selectors.access import session_get_for_actor, today

S = SessionStatus


def dose_plan_preview(*, actor: Actor, session_id: int, inputs: dict[str, Any]) -> DosePlan:
    """What the core would order with these inputs, before the prescriber signs (not saved)."""
    session = session_get_for_actor(
        actor=actor, session_id=session_id, permission=Permission.DOSE_ORDER, audit=False
    )
    pre_check = PreDoseCheck.objects.filter(session=session).order_by("-recorded_at", "-id").first()
    if pre_check is None:
        raise Refused("Record the pre-dose checks first.", field="status", code="no_pre_check")
    override = inputs.pop("override_reason", None) or None
    return compute_plan(
        session=session,
        pre_check=pre_check,
        inputs=inputs,
        override_reason=override,
        today=today(actor=actor),
    )


@dataclass(frozen=True)
class DosingContext:
    """What the prescriber and the nurse see beside the dose: allergies, weights, last dose."""

    allergies: AllergiesData | None
    weights: list[BodyMeasurement]
    previous_order: DoseOrder | None


def dosing_context(session: TreatmentSession) -> DosingContext:
    """The chart's allergies, the recent weights and the course's previous dose (three queries)."""
    section = ChartSection.objects.filter(
        clinic_id=session.clinic_id, patient_id=session.patient_id, section="allergies"
    ).first()
    weights = [
        m for m in measurements_of(patient=session.patient, limit=6) if m.weight_kg is not None
    ]
    previous = (
        DoseOrder.objects.filter(
            clinic_id=session.clinic_id,
            session__course_id=session.course_id,
            status=DoseOrderStatus.VERIFIED,
            session__dosing_started_at__isnull=False,
        )
        .exclude(session_id=session.pk)
        .select_related("session")
        .order_by("-session__dosing_started_at", "-id")
        .first()
    )
    return DosingContext(
        allergies=AllergiesData.model_validate(section.data) if section is not None else None,
        weights=weights,
        previous_order=previous,
    )
