"""The dosing weight: actual, ideal (Devine), adjusted, or ideal only when BMI >= 30."""

from __future__ import annotations

from decimal import Decimal

from ketacare.clinical.dose_limits import WEIGHT_BASES, load_dosing_constants
from ketacare.clinical.dosing.plan import (
    CM_PER_M,
    DISPLAY_STEP,
    HEIGHT_AT_OR_BELOW_BASE,
    IDEAL_ABOVE_ACTUAL,
    OBESE_IDEAL_USED,
    SEXES,
    DoseStep,
    DosingWeight,
)
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.units import round_half_up, show, to_decimal


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
