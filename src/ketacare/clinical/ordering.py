"""What a prescriber orders: the protocol's dose plan from one request, whatever the route."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ketacare.clinical.dosing import DosePlan, esketamine_dose, im_dose, iv_dose, oral_dose
from ketacare.clinical.history import Titration
from ketacare.clinical.protocols import Protocol

NO_HISTORY = Titration(None, None, None)


@dataclass(frozen=True)
class DoseRequest:
    """The facts a dose is calculated from: today's weight, the chart, the inputs, the history."""

    actual_weight_kg: object
    height_cm: object = None
    sex: str | None = None
    inputs: Mapping[str, object] = field(default_factory=dict)
    titration: Titration = NO_HISTORY
    first_session: bool = True
    override_reason: str | None = None


def plan_dose(protocol: Protocol, request: DoseRequest) -> DosePlan:
    """The dose plan for the protocol's route: infusion, injection, fixed step or devices."""
    inputs = request.inputs
    if protocol.route == "iv":
        return iv_dose(
            protocol=protocol,
            actual_weight_kg=request.actual_weight_kg,
            concentration_mg_per_ml=inputs.get("concentration_mg_per_ml"),
            container_volume_ml=inputs.get("container_volume_ml"),
            height_cm=request.height_cm,
            sex=request.sex,
            mg_per_kg=inputs.get("mg_per_kg"),
            duration_min=inputs.get("duration_min"),
            override_reason=request.override_reason,
        )
    if protocol.route == "im":
        return im_dose(
            protocol=protocol,
            actual_weight_kg=request.actual_weight_kg,
            concentration_mg_per_ml=inputs.get("concentration_mg_per_ml"),
            height_cm=request.height_cm,
            sex=request.sex,
            mg_per_kg=inputs.get("mg_per_kg"),
            previous_mg_per_kg=request.titration.previous_mg_per_kg,
            override_reason=request.override_reason,
        )
    if protocol.route == "esketamine":
        return esketamine_dose(
            protocol=protocol,
            dose_mg=inputs.get("dose_mg"),
            first_session=request.first_session,
            override_reason=request.override_reason,
        )
    return oral_dose(
        protocol=protocol,
        dose_mg=inputs.get("dose_mg"),
        previous_dose_mg=request.titration.previous_dose_mg,
        days_since_last_increase=request.titration.days_since_last_increase,
        override_reason=request.override_reason,
    )
