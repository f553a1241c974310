"""Records that cannot be true: weights with their unit checked against the chart, vital signs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from ketacare.clinical._data import Citation, read_document
from ketacare.clinical.dose_limits import load_dosing_constants
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.profiles import VITALS, load_monitoring_profiles
from ketacare.clinical.units import round_half_up, show, to_decimal

KG = "kg"
LB = "lb"
WEIGHT_UNITS = (KG, LB)
KG_PER_LB = Decimal("0.45359237")  # exact, by the international yard and pound agreement (1959)
CM_PER_M = Decimal(100)
ONE_DECIMAL = Decimal("0.1")

WEIGHT_CHANGED = "weight_changed"
BMI_IMPLAUSIBLE = "bmi_implausible"
VITAL_IMPLAUSIBLE = "vital_implausible"
BP_INVERTED = "bp_inverted"


@dataclass(frozen=True)
class Challenge:
    """A value that may be a typing or unit error: kept only when someone confirms it."""

    code: str
    field: str
    message: str


@dataclass(frozen=True)
class PreviousWeight:
    """The chart's last weight, in kilograms, and the day it was measured."""

    weight_kg: Decimal
    measured_on: date


@dataclass(frozen=True)
class WeightCheck:
    """A weight converted to kilograms, its BMI when a height is known, and any challenges."""

    weight_kg: Decimal
    bmi_kg_per_m2: Decimal | None
    challenges: tuple[Challenge, ...]


@dataclass(frozen=True)
class WeightRules:
    """When a weight is challenged (policy defaults in data/records.toml)."""

    change_percent_above: Decimal
    change_window_days: int
    bmi_range: tuple[Decimal, Decimal]
    citation: Citation


@cache
def load_weight_rules() -> WeightRules:
    """The weight plausibility rules, validated once."""
    doc = read_document("records.toml")
    node = doc.child("weight")
    rules = WeightRules(
        change_percent_above=node.decimal("change_percent_above", minimum=Decimal(0)),
        change_window_days=node.integer("change_window_days", minimum=1),
        bmi_range=node.decimal_pair("bmi_range", minimum=Decimal(1)),
        citation=node.citation(),
    )
    node.close()
    doc.close()
    return rules


def check_weight(
    *,
    value: object,
    unit: str,
    on: date,
    previous: PreviousWeight | None,
    height_cm: object = None,
) -> WeightCheck:
    """Convert a weight typed with its unit to kg and challenge what looks like an error.

    Outside the input bounds (25-350 kg) is refused outright (InvalidInput). A change of more
    than the policy percentage from the chart's weight within the window, or a BMI outside the
    policy range, is a challenge: the message says what the number would be in the other unit.
    """
    if unit not in WEIGHT_UNITS:
        raise InvalidInput(
            f"give the weight's unit: one of {', '.join(WEIGHT_UNITS)}", field="weight_unit"
        )
    number = to_decimal(value, "weight")
    kg = round_half_up(number * KG_PER_LB if unit == LB else number, ONE_DECIMAL)
    constants = load_dosing_constants()
    low, high = constants.plausible_weight_kg
    if not low <= kg <= high:
        raise InvalidInput(
            f"{show(number)} {unit} is {show(kg)} kg, outside {show(low)}-{show(high)} kg: "
            "check the number and its unit",
            field="weight",
        )
    rules = load_weight_rules()
    challenges = []
    if previous is not None and 0 <= (on - previous.measured_on).days <= rules.change_window_days:
        change = abs(kg - previous.weight_kg) * 100 / previous.weight_kg
        if change > rules.change_percent_above:
            days = (on - previous.measured_on).days
            other = (
                f"{show(number)} lb would be {show(kg)} kg"
                if unit == LB
                else f"if {show(number)} was pounds, that is "
                f"{show(round_half_up(number * KG_PER_LB, ONE_DECIMAL))} kg"
            )
            challenges.append(
                Challenge(
                    WEIGHT_CHANGED,
                    "weight",
                    f"{show(kg)} kg is {show(round_half_up(change, ONE_DECIMAL))}% away from "
                    f"{show(previous.weight_kg)} kg recorded {days} day(s) ago "
                    f"({previous.measured_on.isoformat()}); {other}. Weigh again and confirm.",
                )
            )
    bmi = None
    if height_cm is not None:
        height = to_decimal(height_cm, "height_cm")
        h_low, h_high = constants.plausible_height_cm
        if not h_low <= height <= h_high:
            raise InvalidInput(
                f"height {show(height)} cm is outside {show(h_low)}-{show(h_high)} cm",
                field="height_cm",
            )
        metres = height / CM_PER_M
        bmi = round_half_up(kg / (metres * metres), ONE_DECIMAL)
        b_low, b_high = rules.bmi_range
        if not b_low <= bmi <= b_high:
            challenges.append(
                Challenge(
                    BMI_IMPLAUSIBLE,
                    "weight",
                    f"{show(kg)} kg at {show(height)} cm is a BMI of {show(bmi)}, outside "
                    f"{show(b_low)}-{show(b_high)}: check weight, height and units, and confirm.",
                )
            )
    return WeightCheck(kg, bmi, tuple(challenges))


def check_vital_signs(values: Mapping[str, int | None]) -> tuple[Challenge, ...]:
    """Challenge vital signs outside the plausible ranges, or a systolic not above the diastolic.

    Values are whole numbers (None = not taken); a BP of 300/200 at intake is challenged.
    """
    bounds = next(iter(load_monitoring_profiles().values())).plausible.bounds
    challenges = []
    for name, value in values.items():
        if name not in VITALS:
            raise InvalidInput(f"unknown vital sign {name!r}", field=name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be a whole number, got {value!r}", field=name)
        low, high = bounds[name]
        if not low <= value <= high:
            challenges.append(
                Challenge(
                    VITAL_IMPLAUSIBLE,
                    name,
                    f"{name.replace('_', ' ')} {value} is outside the plausible {low}-{high}: "
                    "measure again and confirm.",
                )
            )
    systolic, diastolic = values.get("systolic"), values.get("diastolic")
    if systolic is not None and diastolic is not None and systolic <= diastolic:
        challenges.append(
            Challenge(
                BP_INVERTED,
                "diastolic",
                f"BP {systolic}/{diastolic}: the systolic must be above the diastolic.",
            )
        )
    return tuple(challenges)
