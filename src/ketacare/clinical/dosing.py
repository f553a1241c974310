"""Dose calculation for every route, with each intermediate shown, warnings and hard stops.

All arithmetic is Decimal. Dose, volume and pump rate are rounded down to the steps in
data/dosing.toml, so what the pump delivers never exceeds what was ordered. A dose outside the
protocol's range gives a warning that needs a prescriber's reason (`override_reason`); a dose
above the route's ceiling, or into anesthetic doses, raises HardStop, which no reason passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from ketacare.clinical.dose_limits import (
    WEIGHT_BASES,
    DosingConstants,
    WeightRouteLimits,
    load_dosing_constants,
)
from ketacare.clinical.errors import HardStop, InvalidInput, ProtocolViolation
from ketacare.clinical.protocols import DeviceDose, FixedStepDose, Protocol, WeightBasedDose
from ketacare.clinical.units import round_down, round_half_up, show, to_decimal

RuleT = TypeVar("RuleT", WeightBasedDose, FixedStepDose, DeviceDose)

SEXES = ("male", "female")
MINUTES_PER_HOUR = Decimal(60)
CM_PER_M = Decimal(100)
DISPLAY_STEP = Decimal("0.01")

# Warning codes (each needs a prescriber's reason to proceed).
BELOW_RANGE = "below_range"
ABOVE_RANGE = "above_range"
INFUSION_TOO_SHORT = "infusion_too_short"
INFUSION_BELOW_HARD_STOP = "infusion_below_hard_stop"
DELIVERED_DIFFERS = "delivered_differs"
ABOVE_TITRATION_START = "above_titration_start"
TITRATION_STEP_EXCEEDED = "titration_step_exceeded"
STEP_UP_NEEDS_PRESCRIBER = "step_up_needs_prescriber"
STEP_UP_TOO_SOON = "step_up_too_soon"
STEP_UP_INTERVAL_UNKNOWN = "step_up_interval_unknown"
NOT_A_LABEL_DOSE = "not_a_label_dose"
LABEL_FIRST_DOSE = "label_first_dose"

# Hard-stop codes.
ABOVE_CEILING = "above_ceiling"
UNDILUTED = "undiluted_for_iv"

# Dosing-weight flags.
HEIGHT_AT_OR_BELOW_BASE = "height_at_or_below_60_in"
IDEAL_ABOVE_ACTUAL = "ideal_above_actual"
OBESE_IDEAL_USED = "bmi_at_or_above_threshold_ideal_used"


@dataclass(frozen=True)
class DoseStep:
    """One labelled intermediate of a calculation, for the prescriber to check by hand."""

    label: str
    expression: str
    value: Decimal
    unit: str


@dataclass(frozen=True)
class DoseWarning:
    """A reason the dose needs a prescriber's written reason to proceed."""

    code: str
    message: str


@dataclass(frozen=True)
class DosingWeight:
    """The weight a mg/kg dose is calculated on, with how it was derived."""

    basis: str
    requested_basis: str
    weight_kg: Decimal
    actual_weight_kg: Decimal
    ideal_weight_kg: Decimal | None
    adjusted_weight_kg: Decimal | None
    bmi_kg_per_m2: Decimal | None
    steps: tuple[DoseStep, ...]
    flags: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class DosePlan:
    """A calculated dose with every intermediate, its warnings, and any override reason."""

    protocol_id: str
    route: str
    dose_mg: Decimal
    steps: tuple[DoseStep, ...]
    warnings: tuple[DoseWarning, ...] = ()
    notes: tuple[str, ...] = ()
    override_reason: str | None = None
    mg_per_kg: Decimal | None = None
    dosing_weight: DosingWeight | None = None
    concentration_mg_per_ml: Decimal | None = None
    volume_ml: Decimal | None = None
    duration_min: Decimal | None = None
    rate_ml_per_h: Decimal | None = None
    delivered_dose_mg: Decimal | None = None
    calculated_dose_mg: Decimal | None = None
    devices: int | None = None
    rest_between_devices_min: int | None = None

    @property
    def requires_reason(self) -> bool:
        """True when the dose is outside the protocol's range and needs a prescriber's reason."""
        return bool(self.warnings)

    @property
    def may_proceed(self) -> bool:
        """True when there is no warning, or a reason was given for the warnings."""
        return not self.warnings or self.override_reason is not None

    def ensure_may_proceed(self) -> None:
        """Raise ProtocolViolation (the first warning's code) unless the plan may proceed."""
        if not self.may_proceed:
            warning = self.warnings[0]
            raise ProtocolViolation(
                warning.code, f"{warning.message}; a prescriber's reason is needed"
            )


def dosing_weight(
    *,
    basis: str,
    actual_weight_kg: object,
    height_cm: object = None,
    sex: str | None = None,
) -> DosingWeight:
    """The dosing weight: actual, ideal (Devine), adjusted, or ideal only when BMI >= 30."""
    constants = load_dosing_constants()
    formulas = constants.weights
    weight_step = constants.rounding.weight_kg
    if basis not in WEIGHT_BASES:
        raise InvalidInput(
            f"weight basis must be one of {', '.join(WEIGHT_BASES)}, got {basis!r}",
            field="weight_basis",
        )
    actual = _plausible(actual_weight_kg, "actual_weight_kg", constants.plausible_weight_kg)
    steps = [DoseStep("Actual weight", "measured", actual, "kg")]
    flags: list[str] = []
    notes: list[str] = []
    height = (
        None
        if height_cm is None
        else _plausible(height_cm, "height_cm", constants.plausible_height_cm)
    )
    if height is None and basis != "actual":
        raise InvalidInput(f"height_cm is needed for the {basis} weight basis", field="height_cm")
    bmi = None
    if height is not None:
        metres = height / CM_PER_M
        bmi = round_half_up(actual / (metres * metres), weight_step)
        steps.append(DoseStep("BMI", f"{show(actual)} kg ÷ ({show(metres)} m)²", bmi, "kg/m²"))
    resolved = basis
    if basis == "actual_or_ideal_if_obese":
        threshold = formulas.ideal_at_or_above_bmi
        resolved = "ideal" if bmi is not None and bmi >= threshold else "actual"
        if resolved == "ideal":
            flags.append(OBESE_IDEAL_USED)
        notes.append(
            f"BMI {show(bmi or Decimal(0))} {'≥' if resolved == 'ideal' else '<'} "
            f"{show(threshold)}: {resolved} body weight "
            f"used (policy default)"
        )
    ideal = adjusted = None
    if resolved in ("ideal", "adjusted") and height is not None:
        ideal = _ideal_weight(formulas_sex(sex), height, steps, flags, notes)
        if resolved == "adjusted":
            fraction = formulas.adjusted_fraction_of_excess
            adjusted = round_half_up(ideal + fraction * (actual - ideal), weight_step)
            steps.append(
                DoseStep(
                    "Adjusted body weight",
                    f"{show(ideal)} kg + {show(fraction)} × ({show(actual)} kg − {show(ideal)} kg)",
                    adjusted,
                    "kg",
                )
            )
        if ideal > actual:
            flags.append(IDEAL_ABOVE_ACTUAL)
            notes.append(
                "ideal body weight is above actual weight: the mg/kg range and ceiling are also "
                "checked against actual weight"
            )
    weight = next(value for value in (adjusted, ideal, actual) if value is not None)
    steps.append(DoseStep("Dosing weight", f"{resolved} body weight", weight, "kg"))
    return DosingWeight(
        basis=resolved,
        requested_basis=basis,
        weight_kg=weight,
        actual_weight_kg=actual,
        ideal_weight_kg=ideal,
        adjusted_weight_kg=adjusted,
        bmi_kg_per_m2=bmi,
        steps=tuple(steps),
        flags=tuple(flags),
        notes=tuple(notes),
    )


def formulas_sex(sex: str | None) -> str:
    """Validate the sex used by the Devine formula ('male' or 'female')."""
    if sex not in SEXES:
        raise InvalidInput(
            f"the Devine ideal body weight needs sex 'male' or 'female', got {sex!r}; "
            "choose the formula to apply or use the actual weight basis",
            field="sex",
        )
    return sex


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
    rule = _rule(protocol, WeightBasedDose, ("iv",))
    limits = constants.iv
    requested = rule.mg_per_kg if mg_per_kg is None else to_decimal(mg_per_kg, "mg_per_kg")
    duration = to_decimal(
        rule.duration_min if duration_min is None else duration_min, "duration_min"
    )
    concentration = to_decimal(concentration_mg_per_ml, "concentration_mg_per_ml")
    container = to_decimal(container_volume_ml, "container_volume_ml")
    reason = _reason(override_reason)
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
    rule = _rule(protocol, WeightBasedDose, ("im",))
    requested = rule.mg_per_kg if mg_per_kg is None else to_decimal(mg_per_kg, "mg_per_kg")
    previous = (
        None if previous_mg_per_kg is None else to_decimal(previous_mg_per_kg, "previous_mg_per_kg")
    )
    concentration = to_decimal(concentration_mg_per_ml, "concentration_mg_per_ml")
    reason = _reason(override_reason)
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


def oral_dose(
    *,
    protocol: Protocol,
    dose_mg: object,
    previous_dose_mg: object = None,
    days_since_last_increase: int | None = None,
    override_reason: str | None = None,
) -> DosePlan:
    """A sublingual or oral dose in the protocol's fixed steps; a step up needs a prescriber."""
    rule = _rule(protocol, FixedStepDose, ("sublingual", "oral"))
    dose = to_decimal(dose_mg, "dose_mg")
    previous = (
        None if previous_dose_mg is None else to_decimal(previous_dose_mg, "previous_dose_mg")
    )
    reason = _reason(override_reason)
    if dose > rule.hard_stop_above_mg:
        raise HardStop(
            f"{show(dose)} mg is above the {show(rule.hard_stop_above_mg)} mg per-session ceiling "
            f"for {protocol.route} ketamine; no override",
            code=ABOVE_CEILING,
        )
    if dose % rule.step_mg:
        raise InvalidInput(
            f"{show(dose)} mg is not one of the protocol's {show(rule.step_mg)} mg steps",
            field="dose_mg",
        )
    steps = [
        DoseStep("Dose", f"{show(dose / rule.step_mg)} × {show(rule.step_mg)} mg steps", dose, "mg")
    ]
    warnings = []
    low, high = rule.range_mg
    if dose < low or dose > high:
        code = BELOW_RANGE if dose < low else ABOVE_RANGE
        warnings.append(
            DoseWarning(
                code, f"{show(dose)} mg is outside the protocol's {show(low)}-{show(high)} mg"
            )
        )
    if previous is None and dose > rule.start_mg:
        warnings.append(
            DoseWarning(
                ABOVE_TITRATION_START,
                f"a first dose of {show(dose)} mg is above the start of {show(rule.start_mg)} mg",
            )
        )
    if previous is not None and dose > previous:
        steps.append(
            DoseStep("Step up", f"{show(dose)} mg − {show(previous)} mg", dose - previous, "mg")
        )
        warnings.append(
            DoseWarning(
                STEP_UP_NEEDS_PRESCRIBER, f"a step up from {show(previous)} mg needs the prescriber"
            )
        )
        if dose - previous > rule.step_mg:
            warnings.append(
                DoseWarning(
                    TITRATION_STEP_EXCEEDED,
                    f"{show(previous)} → {show(dose)} mg is more than one {show(rule.step_mg)} mg "
                    "step",
                )
            )
        if days_since_last_increase is None:
            warnings.append(
                DoseWarning(
                    STEP_UP_INTERVAL_UNKNOWN, "the days since the last increase are not known"
                )
            )
        elif days_since_last_increase < rule.step_up_min_days:
            warnings.append(
                DoseWarning(
                    STEP_UP_TOO_SOON,
                    f"{days_since_last_increase} days since the last increase; steps are at least "
                    f"{rule.step_up_min_days} days apart",
                )
            )
    return DosePlan(
        protocol_id=protocol.id,
        route=protocol.route,
        dose_mg=dose,
        steps=tuple(steps),
        warnings=tuple(warnings),
        override_reason=reason,
    )


sublingual_dose = oral_dose


def esketamine_dose(
    *,
    protocol: Protocol,
    dose_mg: object,
    first_session: bool,
    override_reason: str | None = None,
) -> DosePlan:
    """An esketamine dose as a count of 28 mg devices with the rest between devices."""
    rule = _rule(protocol, DeviceDose, ("esketamine",))
    dose = to_decimal(dose_mg, "dose_mg")
    reason = _reason(override_reason)
    if dose > rule.max_mg:
        raise HardStop(
            f"{show(dose)} mg is above the {rule.max_mg} mg esketamine maximum per session "
            "(SPRAVATO PI); no override",
            code=ABOVE_CEILING,
        )
    if dose % rule.device_mg:
        raise InvalidInput(
            f"{show(dose)} mg is not a whole number of {rule.device_mg} mg devices", field="dose_mg"
        )
    devices = int(dose / rule.device_mg)
    rest = rule.rest_between_devices_min
    steps = [
        DoseStep(
            "Devices",
            f"{show(dose)} mg ÷ {rule.device_mg} mg per device",
            Decimal(devices),
            "devices",
        )
    ]
    steps += [
        DoseStep(
            f"Device {number}",
            f"{rule.device_mg} mg (one spray per nostril) at minute",
            Decimal((number - 1) * rest),
            "min",
        )
        for number in range(1, devices + 1)
    ]
    steps.append(
        DoseStep(
            "Last device",
            f"({devices} − 1) × {rest} min rest",
            Decimal((devices - 1) * rest),
            "min",
        )
    )
    warnings = []
    if int(dose) not in rule.allowed_mg:
        allowed = " or ".join(str(mg) for mg in rule.allowed_mg)
        warnings.append(
            DoseWarning(NOT_A_LABEL_DOSE, f"{show(dose)} mg is not a label dose ({allowed} mg)")
        )
    if first_session and int(dose) != rule.first_dose_mg:
        warnings.append(
            DoseWarning(
                LABEL_FIRST_DOSE,
                f"the label's first dose for this protocol is {rule.first_dose_mg} mg",
            )
        )
    return DosePlan(
        protocol_id=protocol.id,
        route=protocol.route,
        dose_mg=dose,
        steps=tuple(steps),
        warnings=tuple(warnings),
        override_reason=reason,
        devices=devices,
        rest_between_devices_min=rest,
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


def _rule(protocol: Protocol, kind: type[RuleT], routes: tuple[str, ...]) -> RuleT:
    if not isinstance(protocol, Protocol):
        raise InvalidInput(
            "protocol must be a Protocol (see protocols.get_protocol)", field="protocol"
        )
    if protocol.route not in routes or not isinstance(protocol.dose, kind):
        raise InvalidInput(
            f"protocol {protocol.id} is for route {protocol.route}, not {' or '.join(routes)}",
            field="protocol",
        )
    return protocol.dose


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


def _plausible(value: object, field: str, bounds: tuple[Decimal, Decimal]) -> Decimal:
    number = to_decimal(value, field)
    low, high = bounds
    if not low <= number <= high:
        raise InvalidInput(
            f"{field} {show(number)} is outside the plausible {show(low)}-{show(high)}; check the "
            "unit",
            field=field,
        )
    return number


def _ideal_weight(
    sex: str, height_cm: Decimal, steps: list[DoseStep], flags: list[str], notes: list[str]
) -> Decimal:
    formulas = load_dosing_constants().weights
    base = formulas.male_base_kg if sex == "male" else formulas.female_base_kg
    inches = height_cm / formulas.cm_per_inch
    steps.append(
        DoseStep(
            "Height",
            f"{show(height_cm)} cm ÷ {show(formulas.cm_per_inch)} cm/in",
            round_half_up(inches, DISPLAY_STEP),
            "in",
        )
    )
    if inches <= formulas.base_height_in:
        flags.append(HEIGHT_AT_OR_BELOW_BASE)
        notes.append(
            f"height at or under {show(formulas.base_height_in)} in: the Devine base weight is "
            "used; check the dose"
        )
        steps.append(
            DoseStep(
                "Ideal body weight (Devine)",
                f"{show(base)} kg base ({sex}); height ≤ {show(formulas.base_height_in)} in",
                base,
                "kg",
            )
        )
        return base
    ideal = round_half_up(
        base + formulas.kg_per_inch_over_base * (inches - formulas.base_height_in),
        load_dosing_constants().rounding.weight_kg,
    )
    steps.append(
        DoseStep(
            "Ideal body weight (Devine)",
            f"{show(base)} kg + {show(formulas.kg_per_inch_over_base)} kg × "
            f"({show(round_half_up(inches, DISPLAY_STEP))} in − {show(formulas.base_height_in)} "
            "in)",
            ideal,
            "kg",
        )
    )
    return ideal


def _reason(override_reason: str | None) -> str | None:
    if override_reason is None:
        return None
    if not isinstance(override_reason, str) or not override_reason.strip():
        raise InvalidInput(
            "override_reason, when given, must be a non-empty text", field="override_reason"
        )
    return override_reason.strip()
