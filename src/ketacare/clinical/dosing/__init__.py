"""Dose calculation for every route, with each intermediate shown, warnings and hard stops.

All arithmetic is Decimal. Dose, volume and pump rate are rounded down to the steps in
data/dosing.toml, so what the pump delivers never exceeds what was ordered. A dose outside the
protocol's range gives a warning that needs a prescriber's reason (`override_reason`); a dose
above the route's ceiling, or into anesthetic doses, raises HardStop, which no reason passes.

One module per part: the plan and its codes (`plan`), the dosing weight (`weight`), weight-based
routes (`weight_based`: IV, IM) and fixed-step routes (`fixed`: sublingual, oral, esketamine).
"""

from ketacare.clinical.dosing.fixed import esketamine_dose, oral_dose, sublingual_dose
from ketacare.clinical.dosing.plan import (
    ABOVE_CEILING,
    ABOVE_RANGE,
    ABOVE_TITRATION_START,
    BELOW_RANGE,
    CM_PER_M,
    DELIVERED_DIFFERS,
    DISPLAY_STEP,
    HEIGHT_AT_OR_BELOW_BASE,
    IDEAL_ABOVE_ACTUAL,
    INFUSION_BELOW_HARD_STOP,
    INFUSION_TOO_SHORT,
    LABEL_FIRST_DOSE,
    MINUTES_PER_HOUR,
    NOT_A_LABEL_DOSE,
    OBESE_IDEAL_USED,
    SEXES,
    STEP_UP_INTERVAL_UNKNOWN,
    STEP_UP_NEEDS_PRESCRIBER,
    STEP_UP_TOO_SOON,
    TITRATION_STEP_EXCEEDED,
    UNDILUTED,
    DosePlan,
    DoseStep,
    DoseWarning,
    DosingWeight,
)
from ketacare.clinical.dosing.weight import dosing_weight, formulas_sex
from ketacare.clinical.dosing.weight_based import im_dose, iv_dose

__all__ = [
    "ABOVE_CEILING",
    "ABOVE_RANGE",
    "ABOVE_TITRATION_START",
    "BELOW_RANGE",
    "CM_PER_M",
    "DELIVERED_DIFFERS",
    "DISPLAY_STEP",
    "DosePlan",
    "DoseStep",
    "DoseWarning",
    "DosingWeight",
    "HEIGHT_AT_OR_BELOW_BASE",
    "IDEAL_ABOVE_ACTUAL",
    "INFUSION_BELOW_HARD_STOP",
    "INFUSION_TOO_SHORT",
    "LABEL_FIRST_DOSE",
    "MINUTES_PER_HOUR",
    "NOT_A_LABEL_DOSE",
    "OBESE_IDEAL_USED",
    "SEXES",
    "STEP_UP_INTERVAL_UNKNOWN",
    "STEP_UP_NEEDS_PRESCRIBER",
    "STEP_UP_TOO_SOON",
    "TITRATION_STEP_EXCEEDED",
    "UNDILUTED",
    "dosing_weight",
    "esketamine_dose",
    "formulas_sex",
    "im_dose",
    "iv_dose",
    "oral_dose",
    "sublingual_dose",
]
