"""Treatment outcomes: response and remission, relapse signals, and large deteriorations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.instruments import Instrument, get_instrument

REMISSION = "remission"
RESPONSE = "response"
PARTIAL_RESPONSE = "partial response"
NO_RESPONSE = "no response"
OUTCOMES = (REMISSION, RESPONSE, PARTIAL_RESPONSE, NO_RESPONSE)

ALERT_DETERIORATION = "deterioration"
RELAPSE_BY_SCORES = "scores"


@dataclass(frozen=True)
class RemissionRule:
    """The highest total that counts as remission on one scale."""

    instrument_id: str
    max_total: int
    rule: str
    citation: Citation


@dataclass(frozen=True)
class DeteriorationRule:
    """The rise in points between two scores that raises a deterioration alert."""

    instrument_id: str
    min_rise: int
    citation: Citation


@dataclass(frozen=True)
class RelapsePolicy:
    """When scores after response or remission signal relapse (reference §5 policy default)."""

    above_fraction_of_baseline: Fraction
    band_at_or_above: str
    min_days_apart: int
    max_days_apart: int
    events: tuple[str, ...]
    citation: Citation


@dataclass(frozen=True)
class OutcomeRules:
    """All outcome thresholds, as loaded from data/outcomes.toml."""

    response_min_fall: Fraction
    response_citation: Citation
    partial_min_fall: Fraction
    partial_citation: Citation
    remission: dict[str, RemissionRule]
    classifiable: tuple[str, ...]
    classifiable_citation: Citation
    relapse: RelapsePolicy
    deterioration: dict[str, DeteriorationRule]


@dataclass(frozen=True)
class RelapseSignal:
    """A relapse or booster signal and the evidence that raised it."""

    instrument_id: str
    kind: str
    detected_on: date
    responded_on: date
    evidence: tuple[tuple[date, int], ...]
    reason: str


def classify(instrument_id: str, baseline_total: int, current_total: int) -> str:
    """Classify a score against baseline: remission, response, partial response or no response.

    Remission (the scale's own threshold) takes precedence over response. Scales without a remission
    threshold (PCL-5) get the response rules only. A baseline of 0 allows no fall, so it gives
    remission when the current score is in remission range, else no response.
    """
    rules = load_outcome_rules()
    instrument = _classifiable_instrument(instrument_id, rules)
    baseline = _checked_total(instrument, baseline_total, "baseline_total")
    current = _checked_total(instrument, current_total, "current_total")
    remission = rules.remission.get(instrument.id)
    if remission is not None and current <= remission.max_total:
        return REMISSION
    if baseline == 0:
        return NO_RESPONSE
    fall = Fraction(baseline - current, baseline)
    if fall >= rules.response_min_fall:
        return RESPONSE
    if fall >= rules.partial_min_fall:
        return PARTIAL_RESPONSE
    return NO_RESPONSE


def relapse_signal(
    instrument_id: str,
    scores: Sequence[tuple[date, int]],
    baseline_total: int,
    *,
    events: Sequence[tuple[date, str]] = (),
) -> RelapseSignal | None:
    """The first relapse signal after response or remission, with its evidence, or None.

    Policy default (reference §5): after response or remission, two consecutive scores, 5-15 days
    apart, each above baseline x 0.5 or back in the moderate band (or worse) after having been
    below it; or a hospitalisation or suicide attempt (`events`: (date, kind) pairs).
    """
    rules = load_outcome_rules()
    policy = rules.relapse
    instrument = _classifiable_instrument(instrument_id, rules)
    baseline = _checked_total(instrument, baseline_total, "baseline_total")
    series = sorted(
        (_as_date(day, f"scores[{index}]"), _checked_total(instrument, total, f"scores[{index}]"))
        for index, (day, total) in enumerate(scores)
    )
    for index, (_, kind) in enumerate(events):
        if kind not in policy.events:
            raise InvalidInput(
                f"unknown relapse event {kind!r}; known: {', '.join(policy.events)}",
                field=f"events[{index}]",
            )
    responded = next(
        (
            position
            for position, (_, total) in enumerate(series)
            if classify(instrument.id, baseline, total) in (REMISSION, RESPONSE)
        ),
        None,
    )
    if responded is None:
        return None
    responded_on = series[responded][0]
    candidates = [
        RelapseSignal(
            instrument.id,
            kind,
            _as_date(day, "events"),
            responded_on,
            (),
            f"{kind.replace('_', ' ')} after response",
        )
        for day, kind in events
        if _as_date(day, "events") > responded_on
    ]
    by_scores = _relapse_by_scores(instrument, policy, baseline, series, responded)
    if by_scores is not None:
        candidates.append(by_scores)
    return min(candidates, key=lambda signal: signal.detected_on, default=None)


def deterioration(instrument_id: str, previous_total: int, current_total: int) -> bool:
    """Whether the rise from previous to current total should raise a `deterioration` alert."""
    rules = load_outcome_rules()
    instrument = get_instrument(instrument_id)
    rule = rules.deterioration.get(instrument.id)
    if rule is None:
        raise InvalidInput(
            f"no deterioration threshold is defined for {instrument.short_name}; "
            f"defined for: {', '.join(sorted(rules.deterioration))}",
            field="instrument_id",
        )
    previous = _checked_total(instrument, previous_total, "previous_total")
    current = _checked_total(instrument, current_total, "current_total")
    return current - previous >= rule.min_rise


def _relapse_by_scores(
    instrument: Instrument,
    policy: RelapsePolicy,
    baseline: int,
    series: list[tuple[date, int]],
    responded: int,
) -> RelapseSignal | None:
    band_names = [band.name for band in instrument.bands]
    band_floor = None
    if policy.band_at_or_above in band_names:
        band = instrument.bands[band_names.index(policy.band_at_or_above)]
        band_floor = band.min
    was_below_band = False
    previous: tuple[date, int] | None = None
    for day, total in series[responded:]:
        above_response = total > policy.above_fraction_of_baseline * baseline
        in_band = band_floor is not None and total >= band_floor
        relapsed = above_response or (in_band and was_below_band)
        if not in_band:
            was_below_band = True
        if relapsed and previous is not None:
            gap = (day - previous[0]).days
            if policy.min_days_apart <= gap <= policy.max_days_apart:
                return RelapseSignal(
                    instrument.id,
                    RELAPSE_BY_SCORES,
                    day,
                    series[responded][0],
                    (previous, (day, total)),
                    f"two consecutive scores {gap} days apart above the response level "
                    f"or back in the {policy.band_at_or_above} band",
                )
        previous = (day, total) if relapsed else None
    return None


def _classifiable_instrument(instrument_id: str, rules: OutcomeRules) -> Instrument:
    instrument = get_instrument(instrument_id)
    if instrument.id not in rules.classifiable:
        raise InvalidInput(
            f"{instrument.short_name} is not an outcome scale; classifiable: "
            f"{', '.join(rules.classifiable)}",
            field="instrument_id",
        )
    return instrument


def _checked_total(instrument: Instrument, total: object, field: str) -> int:
    if isinstance(total, bool) or not isinstance(total, int):
        raise InvalidInput(f"{field} must be an integer total, got {total!r}", field=field)
    if not instrument.min_total <= total <= instrument.max_total:
        raise InvalidInput(
            f"{field} {total} is outside {instrument.short_name}'s "
            f"{instrument.min_total}-{instrument.max_total}",
            field=field,
        )
    return total


def _as_date(value: object, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise InvalidInput(f"{field} needs a date, got {value!r}", field=field)


# --- loading and validation -------------------------------------------------------------------


def parse_outcome_rules(doc: Node) -> OutcomeRules:
    """Validate the outcomes document; a problem raises DataError naming file and key."""
    response = doc.child("response")
    partial = doc.child("partial_response")
    response_fall = Fraction(response.decimal("min_fall", minimum=Decimal(0), maximum=Decimal(1)))
    partial_fall = Fraction(partial.decimal("min_fall", minimum=Decimal(0), maximum=Decimal(1)))
    if partial_fall >= response_fall:
        partial.fail("min_fall", "partial response must need a smaller fall than response")
    remission = {}
    for instrument_id, node in doc.table_items("remission"):
        instrument = _known_instrument(node, instrument_id)
        remission[instrument_id] = RemissionRule(
            instrument_id,
            node.integer("max_total", minimum=instrument.min_total, maximum=instrument.max_total),
            node.text("rule"),
            node.citation(),
        )
        node.close()
    classifiable_node = doc.child("classifiable")
    classifiable = classifiable_node.texts("instruments")
    for instrument_id in classifiable:
        _known_instrument(classifiable_node, instrument_id)
    missing = sorted(set(remission) - set(classifiable))
    if missing:
        classifiable_node.fail(
            "instruments", f"{missing[0]} has a remission rule but is not listed"
        )
    relapse = doc.child("relapse")
    min_days = relapse.integer("min_days_apart", minimum=0)
    policy = RelapsePolicy(
        Fraction(
            relapse.decimal("above_fraction_of_baseline", minimum=Decimal(0), maximum=Decimal(1))
        ),
        relapse.text("band_at_or_above"),
        min_days,
        relapse.integer("max_days_apart", minimum=min_days),
        relapse.texts("events"),
        relapse.citation(),
    )
    deterioration_rules = {}
    for instrument_id, node in doc.table_items("deterioration"):
        instrument = _known_instrument(node, instrument_id)
        deterioration_rules[instrument_id] = DeteriorationRule(
            instrument_id,
            node.integer("min_rise", minimum=1, maximum=instrument.max_total),
            node.citation(),
        )
        node.close()
    rules = OutcomeRules(
        response_min_fall=response_fall,
        response_citation=response.citation(),
        partial_min_fall=partial_fall,
        partial_citation=partial.citation(),
        remission=remission,
        classifiable=classifiable,
        classifiable_citation=classifiable_node.citation(),
        relapse=policy,
        deterioration=deterioration_rules,
    )
    for node in (response, partial, classifiable_node, relapse, doc):
        node.close()
    return rules


def _known_instrument(node: Node, instrument_id: str) -> Instrument:
    try:
        return get_instrument(instrument_id)
    except InvalidInput:
        node.fail(instrument_id, f"unknown instrument {instrument_id!r}")


@cache
def load_outcome_rules() -> OutcomeRules:
    """The outcome rules, validated once."""
    return parse_outcome_rules(read_document("outcomes.toml"))
