"""May a controlled-substance prescription be issued after a telemedicine visit, on its date?

The rules are effective-dated data (data/telehealth.toml): each period names the legal bases a
prescription may rest on (the DEA flexibilities through 31 Dec 2026; from 1 Jan 2027 a clinic
setting whose shipped default requires an in-person evaluation). A prescription is checked
against the period covering its date; a missing or unknown fact refuses (fail closed), and every
refusal is a `Blocker` with a code, the field at fault and a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

from ketacare.clinical._data import Citation, read_document
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.readiness import Blocker

TELEHEALTH_FILE = "telehealth.toml"

MODALITIES = ("audio_video", "audio_only", "in_person")

RX_NO_RULE_FOR_DATE = "rx_no_rule_for_date"
RX_BASIS_MISSING = "rx_legal_basis_missing"
RX_BASIS_NOT_ALLOWED = "rx_legal_basis_not_allowed"
RX_MODALITY_MISSING = "rx_modality_missing"
RX_MODALITY_NOT_ALLOWED = "rx_modality_not_allowed"
RX_IN_PERSON_REQUIRED = "rx_in_person_evaluation_required"
RX_IN_PERSON_AFTER = "rx_in_person_evaluation_after_prescription"
RX_PATIENT_STATE_MISSING = "rx_patient_state_missing"
RX_DEA_NOT_FOR_STATE = "rx_dea_registration_not_for_state"
RX_PDMP_MISSING = "rx_pdmp_check_missing"
RX_PDMP_AFTER = "rx_pdmp_check_after_prescription"
RX_PDMP_RESULT_UNKNOWN = "rx_pdmp_result_unknown"
RX_PDMP_FINDINGS_UNREVIEWED = "rx_pdmp_findings_unreviewed"


@dataclass(frozen=True)
class LegalBasis:
    """A legal basis a prescription may name, the visit modalities it allows, what it needs."""

    id: str
    label: str
    modalities: tuple[str, ...]
    needs_in_person_evaluation: bool
    citation: Citation


@dataclass(frozen=True)
class Period:
    """Dates (inclusive; `ends` None = open) and the bases a prescription dated in them may use."""

    id: str
    label: str
    starts: date
    ends: date | None
    bases: tuple[str, ...]
    configurable: bool
    citation: Citation

    def covers(self, day: date) -> bool:
        """Whether the day falls inside the period."""
        return self.starts <= day and (self.ends is None or day <= self.ends)


@dataclass(frozen=True)
class PdmpRule:
    """The PDMP check every prescription records: required, its results, findings reviewed."""

    required: bool
    results: tuple[str, ...]
    findings_need_review: bool
    citation: Citation


@dataclass(frozen=True)
class TelehealthRules:
    """The legal bases, the effective-dated periods and the PDMP rule."""

    bases: Mapping[str, LegalBasis]
    periods: tuple[Period, ...]
    pdmp: PdmpRule

    def period_on(self, day: date) -> Period | None:
        """The period covering the day, or None (no rule: refused)."""
        return next((p for p in self.periods if p.covers(day)), None)


@dataclass(frozen=True)
class PrescriptionFacts:
    """The telemedicine record of one prescription; None means not recorded (refused)."""

    issued_on: date
    legal_basis: str | None
    modality: str | None
    patient_state: str | None
    dea_registration_state: str | None
    dea_registration_current: bool | None
    in_person_evaluation_on: date | None
    pdmp_checked_on: date | None
    pdmp_result: str | None
    pdmp_review_recorded: bool = False


@cache
def load_telehealth_rules() -> TelehealthRules:
    """The shipped prescribing rules, validated on load (periods in order, never overlapping)."""
    document = read_document(TELEHEALTH_FILE)
    bases: dict[str, LegalBasis] = {}
    for basis_id, node in document.table_items("bases"):
        modalities = node.texts("modalities")
        for index, modality in enumerate(modalities):
            if modality not in MODALITIES:
                node.fail(f"modalities[{index}]", f"unknown modality {modality!r}")
        bases[basis_id] = LegalBasis(
            basis_id,
            node.text("label"),
            modalities,
            node.boolean("needs_in_person_evaluation"),
            node.citation(),
        )
        node.close()
    periods: list[Period] = []
    for node in document.children("periods"):
        period_bases = node.texts("bases")
        for index, basis in enumerate(period_bases):
            if basis not in bases:
                node.fail(f"bases[{index}]", f"unknown legal basis {basis!r}")
        period = Period(
            node.text("id"),
            node.text("label"),
            node.day("starts"),
            node.opt_day("ends"),
            period_bases,
            node.boolean("configurable"),
            node.citation(),
        )
        if period.ends is not None and period.ends < period.starts:
            node.fail("ends", "a period ends before it starts")
        if periods and (periods[-1].ends is None or period.starts <= periods[-1].ends):
            node.fail("starts", "periods must be in order and must not overlap")
        periods.append(period)
        node.close()
    pdmp_node = document.child("pdmp")
    pdmp = PdmpRule(
        pdmp_node.boolean("required"),
        pdmp_node.texts("results"),
        pdmp_node.boolean("findings_need_review"),
        pdmp_node.citation(),
    )
    pdmp_node.close()
    document.close()
    return TelehealthRules(bases, tuple(periods), pdmp)


def configure(
    rules: TelehealthRules, configured_bases: Mapping[str, tuple[str, ...]]
) -> TelehealthRules:
    """The rules with a clinic's bases for the configurable periods (by period id).

    Only a period marked configurable may change; an unknown period or basis is refused.
    """
    periods = []
    by_id = {p.id: p for p in rules.periods}
    for period_id, period_bases in configured_bases.items():
        period = by_id.get(period_id)
        if period is None or not period.configurable:
            raise InvalidInput(f"period {period_id!r} is not configurable", field="period")
        unknown = [b for b in period_bases if b not in rules.bases]
        if unknown or not period_bases:
            raise InvalidInput(f"unknown or no legal bases: {unknown}", field="bases")
    for period in rules.periods:
        chosen = configured_bases.get(period.id)
        periods.append(period if chosen is None else _with_bases(period, chosen))
    return TelehealthRules(rules.bases, tuple(periods), rules.pdmp)


def _with_bases(period: Period, bases: tuple[str, ...]) -> Period:
    return Period(period.id, period.label, period.starts, period.ends, bases, True, period.citation)


def check_prescription(
    facts: PrescriptionFacts, rules: TelehealthRules | None = None
) -> tuple[Blocker, ...]:
    """Everything that stops this prescription from being issued (empty: it may be issued)."""
    rules = rules or load_telehealth_rules()
    found = [*_basis_blockers(facts, rules), *_registration_blockers(facts)]
    found.extend(_pdmp_blockers(facts, rules.pdmp))
    return tuple(found)


def _basis_blockers(facts: PrescriptionFacts, rules: TelehealthRules) -> list[Blocker]:
    day = facts.issued_on.isoformat()
    period = rules.period_on(facts.issued_on)
    if period is None:
        reason = f"No prescribing rule covers {day}; the prescription cannot be issued."
        return [Blocker(RX_NO_RULE_FOR_DATE, "issued_on", reason)]
    if not facts.legal_basis:
        reason = "Record the legal basis the prescription rests on."
        return [Blocker(RX_BASIS_MISSING, "legal_basis", reason)]
    basis = rules.bases.get(facts.legal_basis)
    if basis is None or basis.id not in period.bases:
        allowed = ", ".join(rules.bases[b].label for b in period.bases)
        reason = (
            f"On {day} ({period.label}: {period.citation.render()}) a prescription may rest "
            f"only on: {allowed}."
        )
        return [Blocker(RX_BASIS_NOT_ALLOWED, "legal_basis", reason)]
    found: list[Blocker] = []
    if facts.modality is None:
        found.append(Blocker(RX_MODALITY_MISSING, "modality", "Record the visit's modality."))
    elif facts.modality not in basis.modalities:
        allowed = ", ".join(m.replace("_", "-") for m in basis.modalities)
        reason = f"Under '{basis.label}' the visit must be {allowed}."
        found.append(Blocker(RX_MODALITY_NOT_ALLOWED, "modality", reason))
    evaluated = facts.in_person_evaluation_on
    if basis.needs_in_person_evaluation and evaluated is None:
        reason = (
            f"A prescription dated {day} needs an in-person evaluation ({basis.label}; "
            f"{period.label}, {period.citation.render()})."
        )
        found.append(Blocker(RX_IN_PERSON_REQUIRED, "in_person_evaluation_on", reason))
    if evaluated is not None and evaluated > facts.issued_on:
        reason = "The in-person evaluation is dated after the prescription."
        found.append(Blocker(RX_IN_PERSON_AFTER, "in_person_evaluation_on", reason))
    return found


def _registration_blockers(facts: PrescriptionFacts) -> list[Blocker]:
    state = (facts.patient_state or "").strip().upper()
    if not state:
        reason = "Record the state the patient was in at the visit."
        return [Blocker(RX_PATIENT_STATE_MISSING, "patient_state", reason)]
    registered = (facts.dea_registration_state or "").strip().upper()
    if registered != state or facts.dea_registration_current is not True:
        reason = (
            f"The prescriber needs a current DEA registration in {state}, the patient's state "
            "at the visit."
        )
        return [Blocker(RX_DEA_NOT_FOR_STATE, "dea_registration", reason)]
    return []


def _pdmp_blockers(facts: PrescriptionFacts, rule: PdmpRule) -> list[Blocker]:
    if not rule.required:
        return []
    if facts.pdmp_checked_on is None:
        reason = "Check the state PDMP and record its date and result before prescribing."
        return [Blocker(RX_PDMP_MISSING, "pdmp_checked_on", reason)]
    if facts.pdmp_checked_on > facts.issued_on:
        reason = "The PDMP check is dated after the prescription."
        return [Blocker(RX_PDMP_AFTER, "pdmp_checked_on", reason)]
    if facts.pdmp_result not in rule.results:
        reason = f"Record the PDMP result as one of: {', '.join(rule.results)}."
        return [Blocker(RX_PDMP_RESULT_UNKNOWN, "pdmp_result", reason)]
    if (
        facts.pdmp_result == "findings"
        and rule.findings_need_review
        and not facts.pdmp_review_recorded
    ):
        reason = "The PDMP check found something: the prescriber records a review first."
        return [Blocker(RX_PDMP_FINDINGS_UNREVIEWED, "pdmp_review", reason)]
    return []
