"""Start clearance: whether dosing may start, from the pre-dose checklist, vitals and decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.instruments import (
    ALERT_CSSRS_HIGH,
    ALERT_CSSRS_MODERATE,
    ALERT_SUICIDALITY,
    get_instrument,
)
from ketacare.clinical.monitoring import (
    START_BLOCKED,
    START_INCOMPLETE,
    START_RECHECK,
    VitalReading,
    check_pre_dose,
)
from ketacare.clinical.profiles import AlarmThresholds
from ketacare.clinical.protocols import Protocol

# Scale alerts that hold the start until a prescriber has assessed the patient and decided.
ALERTS_NEEDING_DECISION = (ALERT_CSSRS_HIGH, ALERT_CSSRS_MODERATE, ALERT_SUICIDALITY)

PREGNANCY_NOT_REQUIRED = "not_required"
PREGNANCY_NEGATIVE = "negative"
PREGNANCY_POSITIVE = "positive"
PREGNANCY_RESULTS = (PREGNANCY_NOT_REQUIRED, PREGNANCY_NEGATIVE, PREGNANCY_POSITIVE)
# Policy default, not in the reference: who is asked for a pregnancy test before each dose (the
# labels warn of embryo-fetal toxicity; pregnancy is `exclude` by policy, reference §2). A female
# patient, or one whose sex is not recorded (fail closed), aged 12 to 55 inclusive.
PREGNANCY_TEST_AGES = (12, 55)


@dataclass(frozen=True)
class Concern:
    """A finding that holds the start: a prescriber may decide on it unless it is blocking."""

    code: str
    message: str
    blocking: bool

    def as_json(self) -> dict[str, Any]:
        """The concern as stored beside the check."""
        return asdict(self)


@dataclass(frozen=True)
class DecisionFact:
    """A prescriber's start decision: on which check and reading, and whether to proceed."""

    id: int
    pre_check_id: int
    reading_id: int | None
    proceed: bool
    reason: str
    decided_at: datetime


@dataclass(frozen=True)
class ClearanceFacts:
    """What start clearance reads: the check in force, its findings, the last pre-dose reading."""

    pre_check_id: int | None
    checklist: tuple[Concern, ...]
    reading_id: int | None
    reading: VitalReading | None
    decisions: tuple[DecisionFact, ...] = ()
    thresholds: AlarmThresholds | None = None


@dataclass(frozen=True)
class Clearance:
    """Whether dosing may start now, and why not."""

    concerns: tuple[Concern, ...]
    reading_id: int | None
    decision: DecisionFact | None
    may_start: bool
    needs_decision: bool
    reason: str

    @property
    def blocking(self) -> tuple[Concern, ...]:
        """The concerns no decision lifts."""
        return tuple(c for c in self.concerns if c.blocking)

    @property
    def vitals_acceptable(self) -> bool:
        """No pre-dose vital-sign finding (the REMS form's "vitals acceptable before dosing")."""
        return not any(c.code in VITALS_CODES for c in self.concerns)


VITALS_CODES = ("no_blood_pressure", "vitals_incomplete", "bp_blocked", "bp_recheck")


def pregnancy_test_required(*, sex: str | None, age_years: int | None) -> bool:
    """Whether today's pregnancy test is asked for: female or sex unknown, aged 12-55 (policy).

    An unknown age counts as within the ages (fail closed).
    """
    if sex == "male":
        return False
    low, high = PREGNANCY_TEST_AGES
    return age_years is None or low <= age_years <= high


def age_on(birth_date: date | None, day: date) -> int | None:
    """Whole years of age on a day, or None when the birth date is not recorded."""
    if birth_date is None:
        return None
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def checklist_concerns(
    *,
    fasting_confirmed: bool,
    escort_confirmed: bool,
    pregnancy_test: str,
    pregnancy_test_required: bool,
    medication_changes: bool,
    medication_changes_note: str,
    scale_alerts: Sequence[tuple[str, Sequence[str]]],
) -> list[Concern]:
    """The pre-dose checklist's and today's scales' findings that hold the start."""
    if pregnancy_test not in PREGNANCY_RESULTS:
        raise InvalidInput(
            f"pregnancy_test must be one of {', '.join(PREGNANCY_RESULTS)}",
            field="pregnancy_test",
        )
    concerns: list[Concern] = []
    if pregnancy_test == PREGNANCY_POSITIVE:
        concerns.append(
            Concern(
                "pregnancy_positive",
                "Today's pregnancy test is positive: do not dose (embryo-fetal toxicity).",
                blocking=True,
            )
        )
    elif pregnancy_test == PREGNANCY_NOT_REQUIRED and pregnancy_test_required:
        concerns.append(
            Concern(
                "pregnancy_not_tested",
                "No pregnancy test today for a patient who may be pregnant: the prescriber "
                "decides (policy: female or sex not recorded, aged 12-55).",
                blocking=False,
            )
        )
    if not fasting_confirmed:
        concerns.append(
            Concern("not_fasting", "Fasting before dosing is not confirmed.", blocking=False)
        )
    if not escort_confirmed:
        concerns.append(Concern("no_escort", "An escort home is not confirmed.", blocking=False))
    if medication_changes:
        concerns.append(
            Concern(
                "medication_changes",
                f"Medicines changed since the last session: {medication_changes_note}",
                blocking=False,
            )
        )
    for instrument_id, alerts in scale_alerts:
        instrument = get_instrument(instrument_id)
        meanings = {rule.code: rule.meaning for rule in instrument.alerts}
        for code in alerts:
            if code in ALERTS_NEEDING_DECISION:
                concerns.append(Concern(code, meanings.get(code, code), blocking=False))
    return concerns


def start_clearance(protocol: Protocol, facts: ClearanceFacts) -> Clearance:
    """Whether dosing may start: checks recorded, every pre-dose vital in, within limits, decided.

    A decision covers the checklist findings of the check it was made on, and the vital signs of
    the reading it was made on: a new check, or a new reading still outside the limits, needs a
    new decision. Blocking findings (positive pregnancy test, BP at the block limit, missing
    vital signs) are lifted by no decision.
    """
    if facts.pre_check_id is None:
        return Clearance((), None, None, False, False, "Record the pre-dose checks first.")
    concerns = list(facts.checklist)
    vitals_concern = False
    if facts.reading is None:
        concerns.append(
            Concern("no_blood_pressure", "No vital signs before dosing.", blocking=True)
        )
    else:
        check = check_pre_dose(protocol, facts.reading, thresholds=facts.thresholds)
        if check.status == START_INCOMPLETE:
            concerns.append(Concern("vitals_incomplete", check.reason, blocking=True))
        elif check.status == START_BLOCKED:
            concerns.append(Concern("bp_blocked", check.reason, blocking=True))
        elif check.status == START_RECHECK:
            vitals_concern = True
            concerns.append(Concern("bp_recheck", check.reason, blocking=False))
    blocking = [c for c in concerns if c.blocking]
    if blocking:
        return Clearance(
            tuple(concerns),
            facts.reading_id,
            None,
            False,
            False,
            "Dosing cannot start: " + "; ".join(c.message for c in blocking),
        )
    if not concerns:
        return Clearance(
            (), facts.reading_id, None, True, False, "Pre-dose checks are within limits."
        )
    decision = _covering_decision(facts, vitals_concern=vitals_concern)
    if decision is not None and decision.proceed:
        return Clearance(
            tuple(concerns),
            facts.reading_id,
            decision,
            True,
            False,
            f"A prescriber decided to proceed: {decision.reason}",
        )
    return Clearance(
        tuple(concerns),
        facts.reading_id,
        decision,
        False,
        True,
        "A prescriber must decide before dosing: " + "; ".join(c.message for c in concerns),
    )


def _covering_decision(facts: ClearanceFacts, *, vitals_concern: bool) -> DecisionFact | None:
    for decision in sorted(facts.decisions, key=lambda d: (d.decided_at, d.id), reverse=True):
        if decision.pre_check_id != facts.pre_check_id:
            continue
        if vitals_concern and (facts.reading_id is None or decision.reading_id != facts.reading_id):
            continue
        return decision
    return None
