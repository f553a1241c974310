"""Monitoring profiles and route delivery as data: limits, alarms, timing, how a dose is given."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.dose_limits import ROUTES
from ketacare.clinical.errors import InvalidInput

VITALS = ("systolic", "diastolic", "heart_rate", "respiratory_rate", "spo2")
DELIVERIES = ("infusion", "injection", "lozenge", "oral", "devices")
ORDER_INPUTS = (
    "mg_per_kg",
    "dose_mg",
    "concentration_mg_per_ml",
    "container_volume_ml",
    "duration_min",
)
CONFIRM_FIELDS = ("concentration_mg_per_ml", "volume_ml", "rate_ml_per_h")


@dataclass(frozen=True)
class StartLimits:
    """Blood pressure before dosing: at or above `recheck` rechecks; at or above `block` blocks."""

    recheck_systolic: int
    recheck_diastolic: int
    block_systolic: int
    block_diastolic: int
    citation: Citation


@dataclass(frozen=True)
class AlarmThresholds:
    """In-session alarm thresholds (reference §3 policy defaults); clinics may only tighten them."""

    bp_confirmed_systolic: int
    bp_confirmed_diastolic: int
    bp_confirm_after_min: int
    bp_once_systolic: int
    bp_once_diastolic: int
    heart_rate_above: int
    heart_rate_for_min: int
    spo2_below: int
    moaas_at_or_below: int
    heart_rate_below: int
    systolic_below: int
    systolic_fall_percent_above: int
    respiratory_rate_below: int
    citation: Citation


# For each threshold, the direction that makes an alarm sound sooner ("tighter").
RAISE_TIGHTENS = ("heart_rate_below", "systolic_below", "spo2_below", "respiratory_rate_below")
RAISE_TIGHTENS_MOAAS = ("moaas_at_or_below",)
LOWER_TIGHTENS = (
    "bp_confirmed_systolic",
    "bp_confirmed_diastolic",
    "bp_once_systolic",
    "bp_once_diastolic",
    "heart_rate_above",
    "systolic_fall_percent_above",
)
TUNABLE_ALARMS = (*LOWER_TIGHTENS, *RAISE_TIGHTENS, *RAISE_TIGHTENS_MOAAS)


def tighten_alarms(base: AlarmThresholds, changes: dict[str, int]) -> AlarmThresholds:
    """The thresholds with a clinic's changes, each of which may only make an alarm sound sooner.

    Raises InvalidInput naming the threshold when a change would loosen it or is not a number.
    """
    for name, value in changes.items():
        if name not in TUNABLE_ALARMS:
            raise InvalidInput(f"{name!r} is not an alarm threshold a clinic sets", field=name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(f"{name} must be a whole number, got {value!r}", field=name)
        default = getattr(base, name)
        looser = value > default if name in LOWER_TIGHTENS else value < default
        if looser:
            raise InvalidInput(
                f"{name} {value} is looser than the policy default {default}; a clinic may "
                "tighten an alarm, not loosen it",
                field=name,
            )
        if name == "moaas_at_or_below" and value > 5:
            raise InvalidInput("moaas_at_or_below must be 0 to 5", field=name)
        if name == "spo2_below" and value > 100:
            raise InvalidInput("spo2_below must be at most 100", field=name)
    return replace(base, **changes)  # type: ignore[arg-type]  # names checked above


@dataclass(frozen=True)
class Timeliness:
    """When a due reading counts as overdue, and an infusion as overrunning (policy defaults)."""

    reading_grace_min: int
    infusion_overrun_grace_min: int
    fixed_check_window_min: int
    citation: Citation


@dataclass(frozen=True)
class Plausible:
    """Input plausibility bounds for each vital sign (catch typing and unit errors)."""

    bounds: dict[str, tuple[int, int]]
    citation: Citation


@dataclass(frozen=True)
class Monitoring:
    """A monitoring profile: vitals timing, observation before discharge, criteria and limits."""

    profile: str
    setting: str
    vitals_interval_min: int | None
    post_dose_vitals_interval_min: int | None
    bp_checks_after_dose_min: tuple[int, ...]
    pulse_oximetry: bool
    observation_min: int
    early_discharge_override: bool
    discharge_criteria: tuple[str, ...]
    home_requirements: tuple[str, ...]
    start_limits: StartLimits
    alarms: AlarmThresholds
    pre_dose_required: tuple[str, ...]
    timeliness: Timeliness
    plausible: Plausible
    citation: Citation


@dataclass(frozen=True)
class Delivery:
    """How a route's dose is given: what is ordered, confirmed at the chair, and how it ends."""

    route: str
    delivery: str
    label: str
    start_label: str
    order_inputs: tuple[str, ...]
    confirm_at_start: tuple[str, ...]
    pausable: bool
    devices: bool
    ends_on_start: bool
    rems: bool
    citation: Citation


def parse_monitoring_profiles(doc: Node) -> dict[str, Monitoring]:
    """Validate the monitoring document into profiles (each with the shared limits and alarms)."""
    start = doc.child("start_limits")
    start_limits = StartLimits(
        start.integer("recheck_systolic_at_or_above", minimum=1),
        start.integer("recheck_diastolic_at_or_above", minimum=1),
        start.integer("block_systolic_at_or_above", minimum=1),
        start.integer("block_diastolic_at_or_above", minimum=1),
        start.citation(),
    )
    if (
        start_limits.block_systolic <= start_limits.recheck_systolic
        or start_limits.block_diastolic <= start_limits.recheck_diastolic
    ):
        start.fail("block_systolic_at_or_above", "block limits must be above recheck limits")
    node = doc.child("alarms")
    alarms = AlarmThresholds(
        bp_confirmed_systolic=node.integer("bp_confirmed_systolic_at_or_above", minimum=1),
        bp_confirmed_diastolic=node.integer("bp_confirmed_diastolic_at_or_above", minimum=1),
        bp_confirm_after_min=node.integer("bp_confirm_after_min", minimum=0),
        bp_once_systolic=node.integer("bp_once_systolic_at_or_above", minimum=1),
        bp_once_diastolic=node.integer("bp_once_diastolic_at_or_above", minimum=1),
        heart_rate_above=node.integer("heart_rate_above", minimum=1),
        heart_rate_for_min=node.integer("heart_rate_for_min", minimum=0),
        spo2_below=node.integer("spo2_below", minimum=1, maximum=100),
        moaas_at_or_below=node.integer("moaas_at_or_below", minimum=0, maximum=5),
        heart_rate_below=node.integer("heart_rate_below", minimum=1),
        systolic_below=node.integer("systolic_below", minimum=1),
        systolic_fall_percent_above=node.integer(
            "systolic_fall_percent_above", minimum=1, maximum=99
        ),
        respiratory_rate_below=node.integer("respiratory_rate_below", minimum=1),
        citation=node.citation(),
    )
    if alarms.heart_rate_below >= alarms.heart_rate_above:
        node.fail("heart_rate_below", "must be below heart_rate_above")
    pre = doc.child("pre_dose")
    required = pre.texts("required")
    for index, name in enumerate(required):
        if name not in VITALS:
            pre.fail(f"required[{index}]", f"expected one of {', '.join(VITALS)}, got {name!r}")
    pre.citation()
    timing = doc.child("timeliness")
    timeliness = Timeliness(
        timing.integer("reading_grace_min", minimum=0),
        timing.integer("infusion_overrun_grace_min", minimum=0),
        timing.integer("fixed_check_window_min", minimum=1),
        timing.citation(),
    )
    plausible_node = doc.child("plausible")
    bounds = {}
    for name in VITALS:
        low, high = plausible_node.decimal_pair(name, minimum=Decimal(0))
        bounds[name] = (int(low), int(high))
    plausible = Plausible(bounds, plausible_node.citation())
    profiles = {}
    for name, profile in doc.table_items("profiles"):
        profiles[name] = Monitoring(
            profile=name,
            setting=profile.text("setting", choices=("clinic", "home")),
            vitals_interval_min=profile.opt_integer("vitals_interval_min", minimum=1),
            post_dose_vitals_interval_min=profile.opt_integer(
                "post_dose_vitals_interval_min", minimum=1
            ),
            bp_checks_after_dose_min=(
                profile.integers("bp_checks_after_dose_min", minimum=0)
                if profile.has("bp_checks_after_dose_min")
                else ()
            ),
            pulse_oximetry=profile.boolean("pulse_oximetry"),
            observation_min=profile.integer("observation_min", minimum=0),
            early_discharge_override=profile.boolean("early_discharge_override"),
            discharge_criteria=profile.texts("discharge_criteria"),
            home_requirements=(
                profile.texts("home_requirements") if profile.has("home_requirements") else ()
            ),
            start_limits=start_limits,
            alarms=alarms,
            pre_dose_required=required,
            timeliness=timeliness,
            plausible=plausible,
            citation=profile.citation(),
        )
        profile.close()
    for finished in (start, node, pre, timing, plausible_node, doc):
        finished.close()
    return profiles


@cache
def load_monitoring_profiles() -> dict[str, Monitoring]:
    """The monitoring profiles, validated once."""
    return parse_monitoring_profiles(read_document("monitoring.toml"))


def parse_deliveries(doc: Node) -> dict[str, Delivery]:
    """Validate the routes document: one delivery per route the dosing limits know."""
    deliveries = {}
    for route, node in doc.table_items("routes"):
        if route not in ROUTES:
            node.fail("delivery", f"unknown route {route!r}; known: {', '.join(ROUTES)}")
        order_inputs = node.texts("order_inputs")
        for index, name in enumerate(order_inputs):
            if name not in ORDER_INPUTS:
                node.fail(f"order_inputs[{index}]", f"unknown input {name!r}")
        confirm = node.texts("confirm_at_start", allow_empty=True)
        for index, name in enumerate(confirm):
            if name not in CONFIRM_FIELDS:
                node.fail(f"confirm_at_start[{index}]", f"unknown field {name!r}")
        delivery = Delivery(
            route=route,
            delivery=node.text("delivery", choices=DELIVERIES),
            label=node.text("label"),
            start_label=node.text("start_label"),
            order_inputs=order_inputs,
            confirm_at_start=confirm,
            pausable=node.boolean("pausable"),
            devices=node.boolean("devices"),
            ends_on_start=node.boolean("ends_on_start"),
            rems=node.boolean("rems"),
            citation=node.citation(),
        )
        if delivery.pausable and delivery.ends_on_start:
            node.fail("pausable", "a dose that ends as it is given cannot be paused")
        node.close()
        deliveries[route] = delivery
    missing = sorted(set(ROUTES) - set(deliveries))
    if missing:
        doc.fail("routes", f"no delivery for route {missing[0]!r}")
    doc.close()
    return deliveries


@cache
def load_deliveries() -> dict[str, Delivery]:
    """How each route's dose is given, validated once."""
    return parse_deliveries(read_document("routes.toml"))
