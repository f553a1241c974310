"""Route dose limits, weight formulas and rounding steps, loaded from data/dosing.toml."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document

WEIGHT_BASES = ("actual", "ideal", "adjusted", "actual_or_ideal_if_obese")
ROUTES = ("iv", "im", "sublingual", "oral", "esketamine")


@dataclass(frozen=True)
class Rounding:
    """Rounding steps: weights half-up; dose, volume and rate down (never more than ordered)."""

    weight_kg: Decimal
    dose_mg: Decimal
    iv_volume_ml: Decimal
    im_volume_ml: Decimal
    pump_rate_ml_per_h: Decimal
    citation: Citation
    delivered_difference_percent_above: Decimal = Decimal(5)


@dataclass(frozen=True)
class WeightFormulas:
    """Devine ideal body weight, adjusted body weight and the obesity rule for the dosing weight."""

    male_base_kg: Decimal
    female_base_kg: Decimal
    kg_per_inch_over_base: Decimal
    base_height_in: Decimal
    cm_per_inch: Decimal
    ideal_citation: Citation
    adjusted_fraction_of_excess: Decimal
    adjusted_citation: Citation
    ideal_at_or_above_bmi: Decimal
    obesity_citation: Citation


@dataclass(frozen=True)
class WeightRouteLimits:
    """Absolute limits of a weight-based route (IV, IM)."""

    route: str
    hard_stop_above_mg_per_kg: Decimal
    anesthetic_induction_min_mg_per_kg: Decimal
    undiluted_at_or_above_mg_per_ml: Decimal | None
    min_duration_min: int | None
    citation: Citation
    hard_stop_below_duration_min: int | None = None


@dataclass(frozen=True)
class FixedRouteLimits:
    """Absolute limit of the oral and sublingual routes, in mg per session."""

    hard_stop_above_mg: Decimal
    citation: Citation


@dataclass(frozen=True)
class DeviceRouteLimits:
    """Esketamine devices: mg per device, maximum per session, rest between devices."""

    device_mg: int
    max_mg: int
    rest_between_devices_min: int
    citation: Citation


@dataclass(frozen=True)
class DosingConstants:
    """Everything in data/dosing.toml."""

    rounding: Rounding
    plausible_weight_kg: tuple[Decimal, Decimal]
    plausible_height_cm: tuple[Decimal, Decimal]
    plausible_citation: Citation
    weights: WeightFormulas
    iv: WeightRouteLimits
    im: WeightRouteLimits
    oral_sublingual: FixedRouteLimits
    esketamine: DeviceRouteLimits


def parse_dosing_constants(doc: Node) -> DosingConstants:
    """Validate the dosing document; a problem raises DataError naming file and key."""
    positive = Decimal("0.0001")
    rounding_node = doc.child("rounding")
    rounding = Rounding(
        weight_kg=rounding_node.decimal("weight_kg", minimum=positive),
        dose_mg=rounding_node.decimal("dose_mg", minimum=positive),
        iv_volume_ml=rounding_node.decimal("iv_volume_ml", minimum=positive),
        im_volume_ml=rounding_node.decimal("im_volume_ml", minimum=positive),
        pump_rate_ml_per_h=rounding_node.decimal("pump_rate_ml_per_h", minimum=positive),
        citation=rounding_node.citation(),
        delivered_difference_percent_above=rounding_node.decimal(
            "delivered_difference_percent_above", minimum=Decimal(0), maximum=Decimal(100)
        ),
    )
    plausible = doc.child("plausible_input")
    weight_range = plausible.decimal_pair("weight_kg", minimum=positive)
    height_range = plausible.decimal_pair("height_cm", minimum=positive)
    ideal = doc.child("ideal_body_weight")
    adjusted = doc.child("adjusted_body_weight")
    obesity = doc.child("obesity")
    weights = WeightFormulas(
        male_base_kg=ideal.decimal("male_base_kg", minimum=positive),
        female_base_kg=ideal.decimal("female_base_kg", minimum=positive),
        kg_per_inch_over_base=ideal.decimal("kg_per_inch_over_base", minimum=positive),
        base_height_in=ideal.decimal("base_height_in", minimum=positive),
        cm_per_inch=ideal.decimal("cm_per_inch", minimum=positive),
        ideal_citation=ideal.citation(),
        adjusted_fraction_of_excess=adjusted.decimal(
            "fraction_of_excess", minimum=Decimal(0), maximum=Decimal(1)
        ),
        adjusted_citation=adjusted.citation(),
        ideal_at_or_above_bmi=obesity.decimal("ideal_weight_at_or_above_bmi", minimum=positive),
        obesity_citation=obesity.citation(),
    )
    routes = doc.child("routes")
    constants = DosingConstants(
        rounding=rounding,
        plausible_weight_kg=weight_range,
        plausible_height_cm=height_range,
        plausible_citation=plausible.citation(),
        weights=weights,
        iv=_weight_route(routes.child("iv"), "iv"),
        im=_weight_route(routes.child("im"), "im"),
        oral_sublingual=_fixed_route(routes.child("oral_sublingual")),
        esketamine=_device_route(routes.child("esketamine")),
    )
    for node in (rounding_node, plausible, ideal, adjusted, obesity, routes, doc):
        node.close()
    return constants


def _weight_route(node: Node, route: str) -> WeightRouteLimits:
    hard_stop = node.decimal("hard_stop_above_mg_per_kg", minimum=Decimal(0))
    anesthetic = node.decimal("anesthetic_induction_min_mg_per_kg", minimum=Decimal(0))
    if hard_stop > anesthetic:
        node.fail("hard_stop_above_mg_per_kg", "the hard stop must not reach into anesthetic doses")
    limits = WeightRouteLimits(
        route=route,
        hard_stop_above_mg_per_kg=hard_stop,
        anesthetic_induction_min_mg_per_kg=anesthetic,
        undiluted_at_or_above_mg_per_ml=node.opt_decimal("undiluted_at_or_above_mg_per_ml"),
        min_duration_min=node.opt_integer("min_duration_min", minimum=1),
        citation=node.citation(),
        hard_stop_below_duration_min=node.opt_integer("hard_stop_below_duration_min", minimum=1),
    )
    if (
        limits.hard_stop_below_duration_min is not None
        and limits.min_duration_min is not None
        and limits.hard_stop_below_duration_min > limits.min_duration_min
    ):
        node.fail(
            "hard_stop_below_duration_min", "the hard stop must not be above min_duration_min"
        )
    node.close()
    return limits


def _fixed_route(node: Node) -> FixedRouteLimits:
    limits = FixedRouteLimits(
        node.decimal("hard_stop_above_mg", minimum=Decimal(1)), node.citation()
    )
    node.close()
    return limits


def _device_route(node: Node) -> DeviceRouteLimits:
    device_mg = node.integer("device_mg", minimum=1)
    max_mg = node.integer("max_mg", minimum=device_mg)
    if max_mg % device_mg:
        node.fail("max_mg", f"must be a whole number of {device_mg} mg devices")
    limits = DeviceRouteLimits(
        device_mg, max_mg, node.integer("rest_between_devices_min", minimum=0), node.citation()
    )
    node.close()
    return limits


@cache
def load_dosing_constants() -> DosingConstants:
    """The dosing constants, validated once."""
    return parse_dosing_constants(read_document("dosing.toml"))
