"""Weight-based doses: an IV infusion and an IM injection, from mg/kg and the dosing weight."""

from __future__ import annotations

from decimal import Decimal

from ketacare.clinical.dose_limits import DosingConstants, WeightRouteLimits, load_dosing_constants
from ketacare.clinical.dosing.plan import (
    ABOVE_CEILING,
    ABOVE_RANGE,
    ABOVE_TITRATION_START,
    BELOW_RANGE,
    DELIVERED_DIFFERS,
    DISPLAY_STEP,
    INFUSION_BELOW_HARD_STOP,
    INFUSION_TOO_SHORT,
    MINUTES_PER_HOUR,
    TITRATION_STEP_EXCEEDED,
    UNDILUTED,
    DosePlan,
    DoseStep,
    DoseWarning,
    DosingWeight,
    checked_reason,
    protocol_rule,
)
from ketacare.clinical.dosing.weight import dosing_weight
from ketacare.clinical.errors import HardStop, InvalidInput
from ketacare.clinical.protocols import Protocol, WeightBasedDose
from ketacare.clinical.units import round_down, round_half_up, show, to_decimal


def iv_dose(
    *,
    protocol: Protocol,
    actual_weight_kg: object,
    concentration_mg_per_ml: object,
    container_volume_ml: object,
    height_cm: object = None,
    sex: str | None = None,
    mg_per_kg: object = None,
    duration_min: object = None,
    override_reason: str | None = None,
) -> DosePlan:
    """An IV infusion: dose (mg), volume (mL) and pump rate (mL/h) from mg/kg, weight, time."""
    constants = load_dosing_constants()
    rule = protocol_rule(protocol, WeightBasedDose, ("iv",))
    limits = constants.iv
    requested = rule.mg_per_kg if mg_per_kg is None else to_decimal(mg_per_kg, "mg_per_kg")
    duration = to_decimal(
        rule.duration_min if duration_min is None else duration_min, "duration_min"
    )
    concentration = to_decimal(concentration_mg_per_ml, "concentration_mg_per_ml")
    container = to_decimal(container_volume_ml, "container_volume_ml")
    reason = checked_reason(override_reason)
    shortest = limits.hard_stop_below_duration_min
    if shortest is not None and duration < shortest:
        raise HardStop(
            f"an infusion of {show(duration)} min is shorter than {shortest} min: an "
            "antidepressant infusion is not a bolus (reference §3)",
            code=INFUSION_BELOW_HARD_STOP,
        )
    undiluted = limits.undiluted_at_or_above_mg_per_ml
    if undiluted is not None and concentration >= undiluted:
        raise HardStop(
            f"{show(concentration)} mg/mL must be diluted before IV use (KETALAR label)",
            code=UNDILUTED,
        )
    weight = dosing_weight(
        basis=rule.weight_basis, actual_weight_kg=actual_weight_kg, height_cm=height_cm, sex=sex
    )
    steps = list(weight.steps)
    dose = _weight_dose(requested, weight, constants, steps)
    warnings = _check_weight_dose(rule, limits, requested, dose, weight)
    volume = round_down(dose / concentration, constants.rounding.iv_volume_ml)
    steps.append(DoseStep("Volume", f"{show(dose)} mg ÷ {show(concentration)} mg/mL", volume, "mL"))
    if volume == 0:
        raise InvalidInput(
            "the volume rounds to 0 mL at this concentration", field="concentration_mg_per_ml"
        )
    given = _delivered(dose, volume, concentration, constants, steps, warnings)
    if volume > container:
        raise InvalidInput(
            f"the dose needs {show(volume)} mL but the bag or syringe holds {show(container)} mL",
            field="container_volume_ml",
        )
    # Multiply before dividing: volume / (duration / 60) loses the last digit of a rounded
    # quotient (95 mL over 25 min must give 228.0 mL/h, not 227.9).
    rate = round_down(volume * MINUTES_PER_HOUR / duration, constants.rounding.pump_rate_ml_per_h)
    steps.append(
        DoseStep("Pump rate", f"{show(volume)} mL ÷ ({show(duration)} min ÷ 60)", rate, "mL/h")
    )
    if rate == 0:
        raise InvalidInput("the pump rate rounds to 0 mL/h", field="duration_min")
    delivered_volume = round_half_up(rate * duration / MINUTES_PER_HOUR, DISPLAY_STEP)
    steps.append(
        DoseStep(
            "Volume delivered at that rate",
            f"{show(rate)} mL/h × {show(duration)} min ÷ 60",
            delivered_volume,
            "mL",
        )
    )
    delivered = round_half_up(rate * duration * concentration / MINUTES_PER_HOUR, DISPLAY_STEP)
    steps.append(
        DoseStep(
            "Dose delivered at that rate",
            f"{show(delivered_volume)} mL × {show(concentration)} mg/mL",
            delivered,
            "mg",
        )
    )
    if limits.min_duration_min is not None and duration < limits.min_duration_min:
        warnings.append(
            DoseWarning(
                INFUSION_TOO_SHORT,
                f"an infusion of {show(duration)} min is shorter than {limits.min_duration_min} "
                "min",
            )
        )
    notes = (
        *weight.notes,
        f"Program the pump to stop after {show(volume)} mL (volume to be infused); "
        f"the container holds {show(container)} mL.",
    )
    return DosePlan(
        protocol_id=protocol.id,
        route=protocol.route,
        dose_mg=given,
        steps=tuple(steps),
        warnings=tuple(warnings),
        notes=notes,
        override_reason=reason,
        mg_per_kg=requested,
        dosing_weight=weight,
        concentration_mg_per_ml=concentration,
        volume_ml=volume,
        duration_min=duration,
        rate_ml_per_h=rate,
        delivered_dose_mg=delivered,
        calculated_dose_mg=dose,
    )


def im_dose(
    *,
    protocol: Protocol,
    actual_weight_kg: object,
    concentration_mg_per_ml: object,
    height_cm: object = None,
    sex: str | None = None,
    mg_per_kg: object = None,
    previous_mg_per_kg: object = None,
    override_reason: str | None = None,
) -> DosePlan:
    """An IM injection: dose (mg) and volume (mL) from mg/kg and weight, within titration limits."""
    constants = load_dosing_constants()
    rule = protocol_rule(protocol, WeightBasedDose, ("im",))
    requested = rule.mg_per_kg if mg_per_kg is None else to_decimal(mg_per_kg, "mg_per_kg")
    previous = (
        None if previous_mg_per_kg is None else to_decimal(previous_mg_per_kg, "previous_mg_per_kg")
    )
    concentration = to_decimal(concentration_mg_per_ml, "concentration_mg_per_ml")
    reason = checked_reason(override_reason)
    weight = dosing_weight(
        basis=rule.weight_basis, actual_weight_kg=actual_weight_kg, height_cm=height_cm, sex=sex
    )
    steps = list(weight.steps)
    dose = _weight_dose(requested, weight, constants, steps)
    warnings = _check_weight_dose(rule, constants.im, requested, dose, weight)
    start, step = rule.titration_start_mg_per_kg, rule.titration_step_mg_per_kg
    if previous is None and start is not None and requested > start:
        warnings.append(
            DoseWarning(
                ABOVE_TITRATION_START,
                f"a first dose of {show(requested)} mg/kg is above the titration start of "
                f"{show(start)} mg/kg",
            )
        )
    if previous is not None and step is not None and requested - previous > step:
        warnings.append(
            DoseWarning(
                TITRATION_STEP_EXCEEDED,
                f"{show(previous)} → {show(requested)} mg/kg is more than one {show(step)} mg/kg "
                "titration step",
            )
        )
    volume = round_down(dose / concentration, constants.rounding.im_volume_ml)
    steps.append(DoseStep("Volume", f"{show(dose)} mg ÷ {show(concentration)} mg/mL", volume, "mL"))
    if volume == 0:
        raise InvalidInput(
            "the volume rounds to 0 mL at this concentration", field="concentration_mg_per_ml"
        )
    given = _delivered(dose, volume, concentration, constants, steps, warnings)
    return DosePlan(
        protocol_id=protocol.id,
        route=protocol.route,
        dose_mg=given,
        calculated_dose_mg=dose,
        steps=tuple(steps),
        warnings=tuple(warnings),
        notes=weight.notes,
        override_reason=reason,
        mg_per_kg=requested,
        dosing_weight=weight,
        concentration_mg_per_ml=concentration,
        volume_ml=volume,
    )


def _delivered(
    dose: Decimal,
    volume: Decimal,
    concentration: Decimal,
    constants: DosingConstants,
    steps: list[DoseStep],
    warnings: list[DoseWarning],
) -> Decimal:
    """The mg the rounded volume delivers: the dose recorded (reference §3); a difference from
    the calculated dose above the policy percentage is a warning the prescriber must answer."""
    given = round_half_up(volume * concentration, DISPLAY_STEP)
    if given == dose:
        given = dose  # the same amount: keep the calculation's own precision in the record
    steps.append(
        DoseStep(
            "Dose the measured volume gives",
            f"{show(volume)} mL × {show(concentration)} mg/mL",
            given,
            "mg",
        )
    )
    limit = constants.rounding.delivered_difference_percent_above
    difference = abs(dose - given) * 100 / dose
    if difference > limit:
        warnings.append(
            DoseWarning(
                DELIVERED_DIFFERS,
                f"the volume that can be measured ({show(volume)} mL) gives {show(given)} mg, "
                f"{show(round_half_up(difference, DISPLAY_STEP))}% from the calculated "
                f"{show(dose)} mg (more than {show(limit)}%); choose another concentration or "
                "record why",
            )
        )
    return given


def _weight_dose(
    requested: Decimal, weight: DosingWeight, constants: DosingConstants, steps: list[DoseStep]
) -> Decimal:
    dose = round_down(requested * weight.weight_kg, constants.rounding.dose_mg)
    steps.append(
        DoseStep("Dose", f"{show(requested)} mg/kg × {show(weight.weight_kg)} kg", dose, "mg")
    )
    if dose == 0:
        raise InvalidInput("the dose rounds to 0 mg", field="mg_per_kg")
    if weight.weight_kg != weight.actual_weight_kg:
        per_actual = round_half_up(dose / weight.actual_weight_kg, Decimal("0.001"))
        steps.append(
            DoseStep(
                "Dose per kg of actual weight",
                f"{show(dose)} mg ÷ {show(weight.actual_weight_kg)} kg",
                per_actual,
                "mg/kg",
            )
        )
    return dose


def _check_weight_dose(
    rule: WeightBasedDose,
    limits: WeightRouteLimits,
    requested: Decimal,
    dose: Decimal,
    weight: DosingWeight,
) -> list[DoseWarning]:
    per_actual = dose / weight.actual_weight_kg
    highest = max(requested, per_actual)
    if highest > rule.hard_stop_above_mg_per_kg:
        basis = "of actual weight " if per_actual > requested else ""
        raise HardStop(
            f"{show(round_half_up(highest, Decimal('0.001')))} mg/kg {basis}is above the hard stop "
            "of "
            f"{show(rule.hard_stop_above_mg_per_kg)} mg/kg ({limits.route.upper()} anesthetic "
            "induction starts at "
            f"{show(limits.anesthetic_induction_min_mg_per_kg)} mg/kg); no override",
            code=ABOVE_CEILING,
        )
    low, high = rule.range_mg_per_kg
    warnings = []
    if requested < low:
        warnings.append(
            DoseWarning(
                BELOW_RANGE,
                f"{show(requested)} mg/kg is below the protocol's {show(low)}-{show(high)} mg/kg",
            )
        )
    if highest > high:
        basis = " of actual weight" if per_actual > requested else ""
        warnings.append(
            DoseWarning(
                ABOVE_RANGE,
                f"{show(round_half_up(highest, Decimal('0.001')))} mg/kg{basis} is above the "
                "protocol's "
                f"{show(low)}-{show(high)} mg/kg",
            )
        )
    return warnings
