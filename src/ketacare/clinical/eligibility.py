"""Eligibility screening: cited rules over intake facts; eligible, needs review or ineligible.

Fails closed (reference §2): every recorded entry (a diagnosis code, a history item, a line of
free text, a medicine, an allergy, a substance) is read through the vocabularies; `eligible` only
when every entry was understood, no caution fired and no fact a rule needs is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.dose_limits import ROUTES
from ketacare.clinical.errors import DataError, InvalidInput
from ketacare.clinical.protocols import Protocol
from ketacare.clinical.vocabulary import Reading, Vocabulary, load_vocabulary

ELIGIBLE = "eligible"
NEEDS_REVIEW = "needs review"
INELIGIBLE = "ineligible"

EXCLUDE = "exclude"
CAUTION = "caution"
INFO = "info"
SEVERITIES = (EXCLUDE, CAUTION, INFO)

KINDS = (
    "below",
    "at_least",
    "is_true",
    "any_code",
    "requires_code",
    "bp_above",
    "bp_at_or_above",
    "medicine_class",
    "trd",
    "indication",
)

# Which vocabulary reads each list fact.
CONDITION_FACTS = ("diagnoses", "psychiatric_history", "medical_history")
LIST_FACTS = (*CONDITION_FACTS, "substance_use", "medicines", "allergies")


@dataclass(frozen=True)
class AntidepressantTrial:
    """One antidepressant trial: adequate dose (by mg or the prescriber's flag), weeks, and outcome.

    `outcome` is one of no_response, partial_response, response, remission, intolerance.
    `current_episode` is None until someone says yes or no (reference §2: it stays unknown).
    """

    drug: str
    weeks: Decimal | int | None = None
    outcome: str | None = None
    dose_mg: Decimal | int | None = None
    min_therapeutic_dose_mg: Decimal | int | None = None
    adequate_dose: bool | None = None
    current_episode: bool | None = None


@dataclass(frozen=True)
class IntakeFacts:
    """What intake knows about a patient; None means unknown, an empty list means none.

    List entries are as recorded: condition codes, ICD-10-CM codes, SNOMED CT ids or free text
    (diagnoses and history); generic, brand or combination names (medicines, allergies).
    """

    age_years: int | None = None
    weight_kg: Decimal | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    diagnoses: Sequence[str] | None = None
    psychiatric_history: Sequence[str] | None = None
    medical_history: Sequence[str] | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    substance_use: Sequence[str] | None = None
    medicines: Sequence[str] | None = None
    antidepressant_trials: Sequence[AntidepressantTrial] | None = None
    allergies: Sequence[str] | None = None


FACT_NAMES = tuple(f.name for f in fields(IntakeFacts))


@dataclass(frozen=True)
class EligibilitySettings:
    """Clinic settings for screening (policy defaults from data/eligibility.toml when None)."""

    adequate_trial_min_weeks: int | None = None


@dataclass(frozen=True)
class TrdDefinition:
    """Treatment-resistant depression: how many adequate trials failed, and what is adequate."""

    min_failed_trials: int
    adequate_min_weeks: int
    failed_outcomes: tuple[str, ...]
    outcomes: tuple[str, ...]
    citation: Citation
    trial_class: str = "antidepressants"


@dataclass(frozen=True)
class Rule:
    """One eligibility rule with its facts, condition, severity, reason and citation."""

    id: str
    severity: str
    kind: str
    facts: tuple[str, ...]
    reason: str
    citation: Citation
    routes: tuple[str, ...]
    requires_trd_protocol: bool = False
    value: int | None = None
    codes: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    systolic: int | None = None
    diastolic: int | None = None


@dataclass(frozen=True)
class EligibilityRules:
    """All rules and the TRD definition (medicine classes live in the vocabulary)."""

    rules: tuple[Rule, ...]
    trd: TrdDefinition


@dataclass(frozen=True)
class FiredRule:
    """A rule that applied: severity, reason, citation, the facts it used, and what matched."""

    rule_id: str
    severity: str
    reason: str
    citation: str
    facts_used: list[str]
    detail: str


@dataclass(frozen=True)
class EntryReading:
    """How one recorded entry was read: the fact, the entry, and what it was taken to mean."""

    fact: str
    entry: str
    understood: bool
    meaning: str


@dataclass(frozen=True)
class ScreeningResult:
    """The screening outcome, every rule that fired, the unknown facts and unread entries."""

    status: str
    fired: list[FiredRule]
    missing_facts: list[str]
    unresolved_rules: list[str]
    facts_used: list[str]
    route: str
    protocol_id: str | None = None
    notes: list[str] = field(default_factory=list)
    unrecognised: list[EntryReading] = field(default_factory=list)
    readings: list[EntryReading] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    fired: bool
    detail: str = ""
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Context:
    facts: IntakeFacts
    readings: dict[str, list[Reading]]
    trd: TrdDefinition
    vocabulary: Vocabulary
    protocol: Protocol | None


def screen(
    facts: IntakeFacts,
    *,
    protocol: Protocol | None = None,
    route: str | None = None,
    settings: EligibilitySettings | None = None,
) -> ScreeningResult:
    """Screen intake facts for a protocol (or a route): eligible, needs review or ineligible.

    Any exclude makes the patient ineligible; otherwise any caution, any fact a rule needed but
    did not have, or any recorded entry the vocabularies could not read makes it needs review.
    Info rules are reported but change nothing.
    """
    if not isinstance(facts, IntakeFacts):
        raise InvalidInput("facts must be IntakeFacts", field="facts")
    if protocol is not None:
        route = protocol.route
    if route not in ROUTES:
        raise InvalidInput(f"give a protocol or a route ({', '.join(ROUTES)})", field="route")
    loaded = load_eligibility_rules()
    vocabulary = load_vocabulary()
    context = _Context(
        facts, _read_entries(facts, vocabulary), _trd(loaded.trd, settings), vocabulary, protocol
    )
    requires_trd = protocol.requires_trd if protocol is not None else False
    fired: list[FiredRule] = []
    missing: list[str] = []
    unresolved: list[str] = []
    used: list[str] = [name for name in LIST_FACTS if getattr(facts, name) is not None]
    for rule in loaded.rules:
        if route not in rule.routes or (rule.requires_trd_protocol and not requires_trd):
            continue
        if rule.kind == "indication" and protocol is None:
            continue
        used.extend(rule.facts)
        outcome = _evaluate(rule, context)
        if outcome.fired:
            fired.append(
                FiredRule(
                    rule.id,
                    rule.severity,
                    rule.reason,
                    rule.citation.render(),
                    list(rule.facts),
                    outcome.detail,
                )
            )
        elif outcome.missing:
            missing.extend(outcome.missing)
            unresolved.append(rule.id)
    readings = [
        EntryReading(name, reading.entry, reading.understood, reading.meaning)
        for name, entries in context.readings.items()
        for reading in entries
    ]
    unrecognised = [reading for reading in readings if not reading.understood]
    severities = {rule.severity for rule in fired}
    if EXCLUDE in severities:
        status = INELIGIBLE
    elif CAUTION in severities or missing or unrecognised:
        status = NEEDS_REVIEW
    else:
        status = ELIGIBLE
    notes = [
        f"Not understood ({reading.fact}): {reading.entry!r}: {reading.meaning}; a prescriber "
        "must review it."
        for reading in unrecognised
    ]
    if protocol is None:
        notes.append("No protocol given: the indication was not checked.")
    return ScreeningResult(
        status=status,
        fired=fired,
        missing_facts=list(dict.fromkeys(missing)),
        unresolved_rules=unresolved,
        facts_used=sorted(set(used)),
        route=route,
        protocol_id=protocol.id if protocol is not None else None,
        notes=notes,
        unrecognised=unrecognised,
        readings=readings,
    )


def rule_facts() -> dict[str, tuple[str, ...]]:
    """Which intake facts each rule uses, so a signed screening goes stale when one changes."""
    return {rule.id: rule.facts for rule in load_eligibility_rules().rules}


def adequate_failed_trials(
    trials: Sequence[AntidepressantTrial], *, settings: EligibilitySettings | None = None
) -> tuple[int, list[str]]:
    """Count distinct antidepressants that failed an adequate trial in the current episode.

    Returns the count and the trial facts that were unknown (which could change the count).
    """
    return _count_failed(trials, _trd(load_eligibility_rules().trd, settings), load_vocabulary())


def _trd(trd: TrdDefinition, settings: EligibilitySettings | None) -> TrdDefinition:
    if settings is None or settings.adequate_trial_min_weeks is None:
        return trd
    if settings.adequate_trial_min_weeks < 1:
        raise InvalidInput(
            "adequate_trial_min_weeks must be at least 1", field="adequate_trial_min_weeks"
        )
    return TrdDefinition(
        trd.min_failed_trials,
        settings.adequate_trial_min_weeks,
        trd.failed_outcomes,
        trd.outcomes,
        trd.citation,
        trd.trial_class,
    )


def _reader(name: str, vocabulary: Vocabulary) -> Callable[[str], Reading]:
    if name in CONDITION_FACTS:
        return vocabulary.read_condition
    return {
        "substance_use": vocabulary.read_substance,
        "medicines": vocabulary.read_medicine,
        "allergies": vocabulary.read_allergy,
    }[name]


def _read_entries(facts: IntakeFacts, vocabulary: Vocabulary) -> dict[str, list[Reading]]:
    readings: dict[str, list[Reading]] = {}
    for name in LIST_FACTS:
        value = getattr(facts, name)
        if value is None:
            continue
        read = _reader(name, vocabulary)
        readings[name] = [read(entry) for entry in _strings(value, name) if entry.strip()]
    return readings


def _evaluate(rule: Rule, context: _Context) -> _Outcome:
    values = {name: getattr(context.facts, name) for name in rule.facts}
    if rule.kind == "trd":
        return _evaluate_trd(values["antidepressant_trials"], context)
    if rule.kind == "indication":
        return _evaluate_indication(rule, context)
    if rule.kind in ("bp_above", "bp_at_or_above"):
        return _evaluate_bp(rule, values)
    if rule.kind in ("any_code", "requires_code", "medicine_class"):
        return _evaluate_codes(rule, context)
    [(name, value)] = values.items()
    if value is None:
        return _Outcome(False, missing=(name,))
    if rule.kind == "is_true":
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be true or false, got {value!r}", field=name)
        return _Outcome(value, f"{name}: yes")
    number = _number(value, name)
    threshold = rule.value if rule.value is not None else 0
    hit = number < threshold if rule.kind == "below" else number >= threshold
    return _Outcome(hit, f"{name}: {value}")


def _evaluate_bp(rule: Rule, values: dict[str, object]) -> _Outcome:
    strict = rule.kind == "bp_above"
    limits = {"systolic_mmhg": rule.systolic, "diastolic_mmhg": rule.diastolic}
    missing = []
    for name, limit in limits.items():
        value = values[name]
        if value is None:
            missing.append(name)
            continue
        number = _number(value, name)
        if limit is not None and (number > limit if strict else number >= limit):
            return _Outcome(True, f"{name}: {value}")
    return _Outcome(False, missing=tuple(missing))


def _matches(rule: Rule, context: _Context, wanted: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The entries (as 'fact: entry → meaning') naming a wanted concept, and the unknown facts."""
    found: list[str] = []
    missing: list[str] = []
    for name in rule.facts:
        if name not in context.readings:
            missing.append(name)
            continue
        for reading in context.readings[name]:
            hits = [concept for concept in reading.concepts if concept in wanted]
            if hits:
                labels = ", ".join(context.vocabulary.label(concept) for concept in hits)
                found.append(f"{name}: {reading.entry} → {labels}")
    return found, missing


def _evaluate_codes(rule: Rule, context: _Context) -> _Outcome:
    wanted = rule.classes if rule.kind == "medicine_class" else rule.codes
    found, missing = _matches(rule, context, wanted)
    if rule.kind == "requires_code":
        if found:
            return _Outcome(False)
        if missing:
            return _Outcome(False, missing=tuple(missing))
        return _Outcome(True, f"none of {', '.join(rule.codes)} in {', '.join(rule.facts)}")
    if found:
        return _Outcome(True, "; ".join(found))
    return _Outcome(False, missing=tuple(missing))


def _evaluate_indication(rule: Rule, context: _Context) -> _Outcome:
    assert context.protocol is not None  # noqa: S101 - screen() skips the rule without one
    wanted = context.protocol.indication_conditions
    found, missing = _matches(rule, context, wanted)
    if found:
        return _Outcome(False)
    if missing:
        return _Outcome(False, missing=tuple(missing))
    labels = ", ".join(context.vocabulary.label(code) for code in wanted)
    return _Outcome(
        True,
        f"{context.protocol.id} is for: {context.protocol.indication} ({labels}); no recorded "
        "diagnosis matches",
    )


def _evaluate_trd(trials: object, context: _Context) -> _Outcome:
    trd = context.trd
    if trials is None:
        return _Outcome(False, missing=("antidepressant_trials",))
    if isinstance(trials, str) or not isinstance(trials, Sequence):
        raise InvalidInput(
            "antidepressant_trials must be a list of AntidepressantTrial",
            field="antidepressant_trials",
        )
    count, unknown = _count_failed(trials, trd, context.vocabulary)
    if count >= trd.min_failed_trials:
        return _Outcome(False)
    if unknown:
        return _Outcome(False, missing=tuple(unknown))
    return _Outcome(
        True,
        f"{count} antidepressant(s) failed an adequate trial (at least the minimum therapeutic "
        "dose for "
        f"{trd.adequate_min_weeks} weeks) in the current episode; {trd.min_failed_trials} needed",
    )


def _count_failed(
    trials: Sequence[AntidepressantTrial], trd: TrdDefinition, vocabulary: Vocabulary
) -> tuple[int, list[str]]:
    failed: set[str] = set()
    unknown: list[str] = []
    for index, trial in enumerate(trials):
        prefix = f"antidepressant_trials[{index}]"
        if not isinstance(trial, AntidepressantTrial):
            raise InvalidInput(f"{prefix} must be an AntidepressantTrial", field=prefix)
        if not isinstance(trial.drug, str) or not trial.drug.strip():
            raise InvalidInput(f"{prefix}.drug is empty", field=f"{prefix}.drug")
        if trial.outcome is not None and trial.outcome not in trd.outcomes:
            raise InvalidInput(
                f"{prefix}.outcome must be one of {', '.join(trd.outcomes)}, got {trial.outcome!r}",
                field=f"{prefix}.outcome",
            )
        for name in ("current_episode", "adequate_dose"):
            value = getattr(trial, name)
            if value is not None and not isinstance(value, bool):
                raise InvalidInput(
                    f"{prefix}.{name} must be true, false or unknown", field=f"{prefix}.{name}"
                )
        drugs = _trial_drugs(trial.drug, trd, vocabulary)
        verdicts = {
            f"{prefix}.drug": None if drugs is None else bool(drugs),
            f"{prefix}.current_episode": trial.current_episode,
            f"{prefix}.outcome": None
            if trial.outcome is None
            else trial.outcome in trd.failed_outcomes,
            f"{prefix}.weeks": None
            if trial.weeks is None
            else _number(trial.weeks, f"{prefix}.weeks") >= trd.adequate_min_weeks,
            f"{prefix}.dose_mg": _adequate_dose(trial, prefix),
        }
        if False in verdicts.values():
            continue
        gaps = [name for name, verdict in verdicts.items() if verdict is None]
        if gaps:
            unknown.extend(gaps)
        else:  # every verdict true: the drug was read (an unread one is a gap)
            failed.update(drugs or ())
    return len(failed), unknown


def _trial_drugs(drug: str, trd: TrdDefinition, vocabulary: Vocabulary) -> set[str] | None:
    """The antidepressant ingredients of a trial's drug; None when the name is not understood."""
    reading = vocabulary.read_medicine(drug)
    if not reading.understood:
        return None
    return {
        concept
        for concept in reading.concepts
        if concept in vocabulary.ingredients
        and trd.trial_class in vocabulary.ingredients[concept].classes
    }


def _adequate_dose(trial: AntidepressantTrial, prefix: str) -> bool | None:
    if trial.adequate_dose is not None:
        return trial.adequate_dose
    if trial.dose_mg is None or trial.min_therapeutic_dose_mg is None:
        return None
    dose = _number(trial.dose_mg, f"{prefix}.dose_mg")
    return dose >= _number(trial.min_therapeutic_dose_mg, f"{prefix}.min_therapeutic_dose_mg")


def _number(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidInput(f"{name} must be a number, got {value!r}", field=name)
    return Decimal(value)


def _strings(value: object, name: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(f"{name} must be a list of strings, got {value!r}", field=name)
    for index, entry in enumerate(value):
        if not isinstance(entry, str):
            raise InvalidInput(
                f"{name}[{index}] must be a string, got {entry!r}", field=f"{name}[{index}]"
            )
    return list(value)


# --- loading and validation -------------------------------------------------------------------


def parse_eligibility_rules(doc: Node, vocabulary: Vocabulary | None = None) -> EligibilityRules:
    """Validate the eligibility document; a problem raises DataError naming file and key.

    Every code and class a rule names must be in the vocabulary of the facts it reads, so a
    misspelt code in the rules fails on load instead of never matching.
    """
    vocabulary = vocabulary or load_vocabulary()
    trd_node = doc.child("trd")
    outcomes = trd_node.texts("outcomes")
    failed_outcomes = trd_node.texts("failed_outcomes")
    if not set(failed_outcomes) <= set(outcomes):
        trd_node.fail("failed_outcomes", "must be among outcomes")
    trial_class = trd_node.text("trial_class")
    if trial_class not in vocabulary.classes:
        trd_node.fail("trial_class", f"unknown medicine class {trial_class!r}")
    trd = TrdDefinition(
        trd_node.integer("min_failed_trials", minimum=1),
        trd_node.integer("adequate_min_weeks", minimum=1),
        failed_outcomes,
        outcomes,
        trd_node.citation(),
        trial_class,
    )
    trd_node.close()
    rules = tuple(_parse_rule(node, vocabulary) for node in doc.children("rules"))
    ids = [rule.id for rule in rules]
    duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise DataError(doc.file, "rules", f"duplicate rule id {duplicates[0]!r}")
    doc.close()
    return EligibilityRules(rules, trd)


def _known_concepts(fact: str, vocabulary: Vocabulary) -> set[str]:
    if fact in CONDITION_FACTS:
        return set(vocabulary.conditions)
    if fact == "substance_use":
        return set(vocabulary.substances)
    known = {*vocabulary.ingredients, *vocabulary.classes}
    return known | set(vocabulary.allergens) if fact == "allergies" else known


def _parse_rule(node: Node, vocabulary: Vocabulary) -> Rule:
    kind = node.text("kind", choices=KINDS)
    facts = node.texts("facts")
    for fact in facts:
        if fact not in FACT_NAMES:
            node.fail("facts", f"unknown fact {fact!r}; facts are: {', '.join(FACT_NAMES)}")
    routes = node.texts("routes") if node.has("routes") else ROUTES
    for route in routes:
        if route not in ROUTES:
            node.fail("routes", f"unknown route {route!r}")
    expected_facts = {
        "trd": 1,
        "below": 1,
        "at_least": 1,
        "is_true": 1,
        "bp_above": 2,
        "bp_at_or_above": 2,
    }
    if kind in expected_facts and len(facts) != expected_facts[kind]:
        node.fail("facts", f"a {kind} rule uses {expected_facts[kind]} fact(s)")
    rule = Rule(
        id=node.text("id"),
        severity=node.text("severity", choices=SEVERITIES),
        kind=kind,
        facts=facts,
        reason=node.text("reason"),
        citation=node.citation(),
        routes=routes,
        requires_trd_protocol=node.boolean("requires_trd_protocol", default=False),
        value=node.integer("value") if kind in ("below", "at_least") else None,
        codes=node.texts("codes") if kind in ("any_code", "requires_code") else (),
        classes=node.texts("classes") if kind == "medicine_class" else (),
        systolic=node.integer("systolic", minimum=1) if kind.startswith("bp_") else None,
        diastolic=node.integer("diastolic", minimum=1) if kind.startswith("bp_") else None,
    )
    for cls in rule.classes:
        if cls not in vocabulary.classes:
            node.fail("classes", f"unknown medicine class {cls!r}")
    if kind in ("any_code", "requires_code", "medicine_class", "indication"):
        for fact in facts:
            if fact not in LIST_FACTS:
                node.fail("facts", f"a {kind} rule reads list facts ({', '.join(LIST_FACTS)})")
    if kind == "indication" and facts != ("diagnoses",):
        node.fail("facts", "an indication rule reads diagnoses")
    known = set().union(*(_known_concepts(fact, vocabulary) for fact in facts))
    for code in rule.codes:
        if code not in known:
            node.fail("codes", f"{code!r} is in no vocabulary of {', '.join(facts)}")
    if kind in ("bp_above", "bp_at_or_above") and set(facts) != {"systolic_mmhg", "diastolic_mmhg"}:
        node.fail("facts", "blood-pressure rules use systolic_mmhg and diastolic_mmhg")
    node.close()
    return rule


@cache
def load_eligibility_rules() -> EligibilityRules:
    """The eligibility rules, validated once."""
    return parse_eligibility_rules(read_document("eligibility.toml"))
