"""Misuse and dependence signals from facts the record holds; `assess` decides, with evidence.

Every count, window and combination is a policy default in `data/misuse.toml` (reference §6 lists
the signs, but no consensus says how many make a signal). The rule kept here: a single ambiguous
fact never makes a signal on its own; it needs a repeat, or a fact of another signal in its window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.errors import InvalidInput

# Fact kinds the record supplies (a selector turns records into `Fact`s of these kinds).
DOSE_BEYOND_TITRATION = "dose_beyond_titration"  # derived here from `DoseStep`s
SESSION_REQUEST_EARLIER = "session_request_earlier"
SESSION_REQUEST_MORE = "session_request_more"
EARLY_REFILL = "early_refill"
DOSE_LOST = "dose_lost"
DOSE_STOLEN = "dose_stolen"
TRACKER_MISSED = "tracker_missed"
TRACKER_LATE = "tracker_late"
USE_OUTSIDE_PLAN = "use_outside_plan"
UDS_POSITIVE_CONFIRMED = "uds_positive_confirmed"  # derived here from `DrugScreen`s
UDS_POSITIVE_PRESUMPTIVE = "uds_positive_presumptive"
UDS_INVALID = "uds_invalid"
PDMP_FINDING = "pdmp_finding"
CRAVING_RISE = "craving_rise"  # derived here from craving ratings
BLADDER_RISE = "bladder_rise"  # derived here from bladder checklist counts

# Kinds a selector may hand in directly; the others the core derives.
EVENT_KINDS = frozenset(
    {
        SESSION_REQUEST_EARLIER,
        SESSION_REQUEST_MORE,
        EARLY_REFILL,
        DOSE_LOST,
        DOSE_STOLEN,
        TRACKER_MISSED,
        TRACKER_LATE,
        USE_OUTSIDE_PLAN,
        PDMP_FINDING,
    }
)

UDS_POSITIVE = "positive"
UDS_NEGATIVE = "negative"
UDS_INVALID_RESULT = "invalid"
UDS_RESULTS = (UDS_POSITIVE, UDS_NEGATIVE, UDS_INVALID_RESULT)

MISUSE_FILE = "misuse.toml"

# Alert codes the recovery app raises from these rules (urgency in clinical/alerts.py).
ALERT_MISUSE_SEVERE = "misuse_severe"
ALERT_WITHDRAWAL = "withdrawal_threshold"


@dataclass(frozen=True)
class Fact:
    """One fact from the record: its kind, day, what it says, and the record it came from."""

    kind: str
    on: date
    detail: str
    ref: str


@dataclass(frozen=True)
class DoseStep:
    """A dose given, with the protocol's titration as it stood for it (same unit throughout)."""

    on: date
    dose: Decimal
    unit: str  # "mg" or "mg/kg"
    step_max: Decimal | None
    step_min_days: int | None
    range_max: Decimal | None
    ref: str


@dataclass(frozen=True)
class DrugScreen:
    """A urine drug screen result the clinic recorded, for one substance."""

    on: date
    substance: str
    result: str  # UDS_RESULTS
    expected: bool  # the substance is prescribed (ketamine in a ketamine course): not a signal
    confirmed: bool  # a confirmatory test (not only a presumptive immunoassay)
    ref: str


@dataclass(frozen=True)
class Rating:
    """A craving rating or checklist count, with its day and record."""

    on: date
    total: int
    ref: str


@dataclass(frozen=True)
class MisuseFacts:
    """Everything `assess` reads, gathered once; `not_checked` names sources the record lacks."""

    today: date
    doses: tuple[DoseStep, ...] = ()
    events: tuple[Fact, ...] = ()
    drug_screens: tuple[DrugScreen, ...] = ()
    craving: tuple[Rating, ...] = ()
    bladder: tuple[Rating, ...] = ()
    not_checked: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignalRule:
    """When facts of some kinds become a signal (data/misuse.toml)."""

    id: str
    label: str
    facts: tuple[str, ...]
    ambiguous_facts: frozenset[str]
    repeat: int
    window_days: int
    citation: Citation


@dataclass(frozen=True)
class RiseRule:
    """How far a rating must rise within a window to count as rising."""

    instrument: str
    min_rise: int
    window_days: int
    citation: Citation


@dataclass(frozen=True)
class MisuseRules:
    """The signal rules, rises, severe combinations and thresholds, validated."""

    signals: tuple[SignalRule, ...]
    craving: RiseRule
    bladder: RiseRule
    severe_distinct: int
    severe_pairs: tuple[tuple[str, str], ...]
    severe_citation: Citation
    withdrawal_alert_at_least: int
    withdrawal_citation: Citation
    relapse_windows_days: tuple[int, ...]
    programme_citation: Citation


@dataclass(frozen=True)
class Signal:
    """A signal the core raises, with every fact behind it and the rule that made it."""

    id: str
    label: str
    evidence: tuple[Fact, ...]
    corroborated_by: tuple[str, ...]
    rule: str
    citation: Citation


@dataclass(frozen=True)
class MisuseAssessment:
    """The signals, whether they are severe (open a safety alert), and why."""

    signals: tuple[Signal, ...]
    severe: bool
    severe_reasons: tuple[str, ...]
    not_checked: tuple[str, ...]

    @property
    def needs_review(self) -> bool:
        """Whether the patient belongs on the safety-review worklist."""
        return bool(self.signals)


def assess(facts: MisuseFacts) -> MisuseAssessment:
    """The misuse and dependence signals the facts support, each with its evidence."""
    rules = load_misuse_rules()
    all_facts = _validated(facts) + _derived(facts, rules)
    found: list[Signal] = []
    by_signal = {
        rule.id: [f for f in all_facts if f.kind in rule.facts and _within(f, facts.today, rule)]
        for rule in rules.signals
    }
    for rule in rules.signals:
        own = by_signal[rule.id]
        if not own:
            continue
        clear = [f for f in own if f.kind not in rule.ambiguous_facts]
        others = tuple(
            other.id
            for other in rules.signals
            if other.id != rule.id
            and any(_within(f, facts.today, rule) for f in by_signal[other.id])
        )
        if len(clear) >= rule.repeat:
            why = f"{len(clear)} in {rule.window_days} days (a signal at {rule.repeat})"
            found.append(_signal(rule, own, (), why))
        elif len(own) >= max(rule.repeat, 2):
            why = f"{len(own)} in {rule.window_days} days (repeated)"
            found.append(_signal(rule, own, (), why))
        elif others:
            why = f"one ambiguous fact, corroborated by {', '.join(others)}"
            found.append(_signal(rule, own, others, why))
    ids = {signal.id for signal in found}
    reasons: list[str] = []
    if len(ids) >= rules.severe_distinct:
        reasons.append(f"{len(ids)} signals at once (severe at {rules.severe_distinct})")
    reasons += [f"{a} with {b}" for a, b in rules.severe_pairs if a in ids and b in ids]
    return MisuseAssessment(tuple(found), bool(reasons), tuple(reasons), facts.not_checked)


def withdrawal_alert(total: int) -> bool:
    """Whether a withdrawal checklist count reaches the alert threshold (policy default)."""
    if total < 0:
        raise InvalidInput(f"a checklist count cannot be negative, got {total}", field="total")
    return total >= load_misuse_rules().withdrawal_alert_at_least


def _signal(rule: SignalRule, own: list[Fact], others: tuple[str, ...], why: str) -> Signal:
    evidence = tuple(sorted(own, key=lambda f: (f.on, f.ref)))
    return Signal(rule.id, rule.label, evidence, others, why, rule.citation)


def _within(fact: Fact, today: date, rule: SignalRule) -> bool:
    return today - timedelta(days=rule.window_days) <= fact.on <= today


def _validated(facts: MisuseFacts) -> list[Fact]:
    out = []
    for index, fact in enumerate(facts.events):
        if fact.kind not in EVENT_KINDS:
            raise InvalidInput(f"unknown fact kind {fact.kind!r}", field=f"events[{index}].kind")
        if fact.on > facts.today:
            raise InvalidInput(f"fact {fact.ref} is in the future", field=f"events[{index}].on")
        out.append(fact)
    return out


def _derived(facts: MisuseFacts, rules: MisuseRules) -> list[Fact]:
    derived = _escalations(facts.doses)
    for screen in facts.drug_screens:
        if screen.result not in UDS_RESULTS:
            raise InvalidInput(f"unknown drug screen result {screen.result!r}", field="result")
        if screen.result == UDS_INVALID_RESULT:
            derived.append(Fact(UDS_INVALID, screen.on, f"{screen.substance}: invalid specimen",
                                screen.ref))  # fmt: skip
        elif screen.result == UDS_POSITIVE and not screen.expected:
            kind = UDS_POSITIVE_CONFIRMED if screen.confirmed else UDS_POSITIVE_PRESUMPTIVE
            how = "confirmed" if screen.confirmed else "presumptive, not confirmed"
            derived.append(
                Fact(kind, screen.on, f"{screen.substance} positive ({how})", screen.ref)
            )
    derived += _rise(facts.craving, rules.craving, facts.today, CRAVING_RISE, "craving")
    derived += _rise(facts.bladder, rules.bladder, facts.today, BLADDER_RISE, "bladder symptoms")
    return derived


def _escalations(doses: Sequence[DoseStep]) -> list[Fact]:
    found = []
    ordered = sorted(doses, key=lambda d: (d.on, d.ref))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.unit != before.unit or after.dose <= before.dose:
            continue
        rise, days = after.dose - before.dose, (after.on - before.on).days
        reasons = []
        if after.step_max is not None and rise > after.step_max:
            reasons.append(f"a step of {rise} {after.unit} (titration step {after.step_max})")
        if after.step_min_days is not None and days < after.step_min_days:
            reasons.append(f"{days} days after the last dose (at least {after.step_min_days})")
        if after.range_max is not None and after.dose > after.range_max:
            reasons.append(f"above the protocol's range ({after.range_max} {after.unit})")
        if reasons:
            detail = f"{before.dose} → {after.dose} {after.unit}: " + "; ".join(reasons)
            found.append(Fact(DOSE_BEYOND_TITRATION, after.on, detail, after.ref))
    return found


def _rise(
    ratings: Sequence[Rating], rule: RiseRule, today: date, kind: str, what: str
) -> list[Fact]:
    since = today - timedelta(days=rule.window_days)
    window = sorted((r for r in ratings if since <= r.on <= today), key=lambda r: (r.on, r.ref))
    if len(window) < 2:
        return []
    latest, earlier = window[-1], window[:-1]
    lowest = min(earlier, key=lambda r: r.total)
    if latest.total - lowest.total < rule.min_rise:
        return []
    detail = (
        f"{what} {lowest.total} on {lowest.on.isoformat()} → {latest.total} on "
        f"{latest.on.isoformat()} (rising at {rule.min_rise} or more)"
    )
    return [Fact(kind, latest.on, detail, f"{lowest.ref},{latest.ref}")]


# --- loading ----------------------------------------------------------------------------------


@cache
def load_misuse_rules() -> MisuseRules:
    """The misuse rules from data/misuse.toml, validated once."""
    return parse_misuse_rules(read_document(MISUSE_FILE))


def parse_misuse_rules(doc: Node) -> MisuseRules:
    """Validate the misuse data; a problem raises DataError naming file and key."""
    signals = tuple(_parse_signal(node) for node in doc.children("signals"))
    ids = [s.id for s in signals]
    if len(set(ids)) != len(ids):
        doc.fail("signals", "signal ids must be unique")
    rises = doc.child("rises")
    craving, bladder = _parse_rise(rises.child("craving")), _parse_rise(rises.child("bladder"))
    rises.close()
    severe = doc.child("severe")
    pairs = []
    for pair in severe._get("pairs"):
        if len(pair) != 2 or any(p not in ids for p in pair):
            severe.fail("pairs", f"each pair names two known signals, got {pair!r}")
        pairs.append((str(pair[0]), str(pair[1])))
    distinct = severe.integer("distinct_signals", minimum=2)
    severe_citation = severe.citation()
    severe.close()
    withdrawal = doc.child("withdrawal")
    withdrawal.text("instrument")
    at_least = withdrawal.integer("alert_at_least", minimum=1)
    withdrawal_citation = withdrawal.citation()
    withdrawal.close()
    programme = doc.child("programme")
    windows = programme.integers("relapse_windows_days", minimum=1)
    programme_citation = programme.citation()
    programme.close()
    doc.close()
    return MisuseRules(
        signals, craving, bladder, distinct, tuple(pairs), severe_citation, at_least,
        withdrawal_citation, windows, programme_citation,
    )  # fmt: skip


def _parse_signal(node: Node) -> SignalRule:
    facts = node.texts("facts")
    known = EVENT_KINDS | {
        DOSE_BEYOND_TITRATION, UDS_POSITIVE_CONFIRMED, UDS_POSITIVE_PRESUMPTIVE, UDS_INVALID,
        CRAVING_RISE, BLADDER_RISE,
    }  # fmt: skip
    for kind in facts:
        if kind not in known:
            node.fail("facts", f"unknown fact kind {kind!r}")
    ambiguous = node.boolean("ambiguous")
    listed = node.texts("ambiguous_facts") if node.has("ambiguous_facts") else ()
    if any(kind not in facts for kind in listed):
        node.fail("ambiguous_facts", "names a fact kind the signal does not read")
    ambiguous_facts = frozenset(facts) if ambiguous else frozenset(listed)
    repeat = node.integer("repeat", minimum=1)
    if ambiguous_facts and repeat < 2 and ambiguous_facts == frozenset(facts):
        node.fail("repeat", "an ambiguous fact alone never makes a signal: repeat must be 2+")
    rule = SignalRule(
        id=node.text("id"),
        label=node.text("label"),
        facts=facts,
        ambiguous_facts=ambiguous_facts,
        repeat=repeat,
        window_days=node.integer("window_days", minimum=1),
        citation=node.citation(),
    )
    node.close()
    return rule


def _parse_rise(node: Node) -> RiseRule:
    rule = RiseRule(
        node.text("instrument"),
        node.integer("min_rise", minimum=1),
        node.integer("window_days", minimum=1),
        node.citation(),
    )
    node.close()
    return rule
