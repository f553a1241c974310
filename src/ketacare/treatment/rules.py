"""What holds the start of dosing: the pre-dose findings, the start blood pressure, decisions.

The numbers come from the core (`check_start_vitals`, the instruments' alerts); this module only
says which findings a prescriber may decide on and which nobody may override.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ketacare.clinical.instruments import (
    ALERT_CSSRS_HIGH,
    ALERT_CSSRS_MODERATE,
    ALERT_SUICIDALITY,
    get_instrument,
)
from ketacare.clinical.monitoring import START_BLOCKED, START_RECHECK, check_start_vitals
from ketacare.clinical.protocols import Protocol
from ketacare.treatment.models import (
    MonitoringEntry,
    PreDoseCheck,
    PregnancyTest,
    StartDecision,
    StartDecisionChoices,
)

# Scale alerts that hold the start until a prescriber has assessed the patient and decided.
ALERTS_NEEDING_DECISION = (ALERT_CSSRS_HIGH, ALERT_CSSRS_MODERATE, ALERT_SUICIDALITY)


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
class Clearance:
    """Whether dosing may start now, and why not."""

    concerns: tuple[Concern, ...]
    reading: MonitoringEntry | None
    decision: StartDecision | None
    may_start: bool
    needs_decision: bool
    reason: str

    @property
    def blocking(self) -> tuple[Concern, ...]:
        """The concerns no decision lifts."""
        return tuple(c for c in self.concerns if c.blocking)


def checklist_concerns(
    *,
    fasting_confirmed: bool,
    escort_confirmed: bool,
    pregnancy_test: str,
    medication_changes: bool,
    medication_changes_note: str,
    scale_alerts: Sequence[tuple[str, Sequence[str]]],
) -> list[Concern]:
    """The pre-dose checklist's and today's scales' findings that hold the start."""
    concerns: list[Concern] = []
    if pregnancy_test == PregnancyTest.POSITIVE:
        concerns.append(
            Concern(
                "pregnancy_positive",
                "Today's pregnancy test is positive: do not dose (embryo-fetal toxicity).",
                blocking=True,
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


def start_vitals_alarm(protocol: Protocol, systolic: int, diastolic: int) -> dict[str, str] | None:
    """The start-limit finding for a blood pressure before dosing, as a timeline alarm."""
    check = check_start_vitals(protocol, systolic, diastolic)
    if check.status == START_BLOCKED:
        return {
            "code": "start_blocked",
            "message": check.reason,
            "action": "Do not start. Treat and recheck; record the recheck as a new reading.",
        }
    if check.status == START_RECHECK:
        return {
            "code": "start_recheck",
            "message": check.reason,
            "action": "Recheck the blood pressure, or ask the prescriber to decide.",
        }
    return None


def latest_start_reading(
    entries: Sequence[MonitoringEntry],
) -> tuple[MonitoringEntry, int, int] | None:
    """The last reading before dosing that has a blood pressure, with its pressures."""
    readings = [
        (e, e.systolic, e.diastolic)
        for e in entries
        if e.phase == "pre_dose" and e.systolic is not None and e.diastolic is not None
    ]
    if not readings:
        return None
    return max(readings, key=lambda r: (r[0].taken_at, r[0].pk))


def start_clearance(
    *,
    protocol: Protocol,
    pre_check: PreDoseCheck | None,
    entries: Sequence[MonitoringEntry],
    decisions: Sequence[StartDecision],
) -> Clearance:
    """Whether dosing may start: checks recorded, blood pressure within limits, decisions made.

    A decision covers the checklist findings of the check it was made on, and the start blood
    pressure of the reading it was made on: a new check, or a new reading still outside the
    limits, needs a new decision.
    """
    if pre_check is None:
        return Clearance((), None, None, False, False, "Record the pre-dose checks first.")
    latest = latest_start_reading(entries)
    reading = latest[0] if latest else None
    concerns = [Concern(**c) for c in pre_check.concerns]
    bp_concern = False
    if latest is None:
        concerns.append(
            Concern("no_blood_pressure", "No blood pressure before dosing.", blocking=True)
        )
    else:
        check = check_start_vitals(protocol, latest[1], latest[2])
        if check.status == START_BLOCKED:
            concerns.append(Concern("bp_blocked", check.reason, blocking=True))
        elif check.status == START_RECHECK:
            bp_concern = True
            concerns.append(Concern("bp_recheck", check.reason, blocking=False))
    blocking = [c for c in concerns if c.blocking]
    if blocking:
        return Clearance(
            tuple(concerns),
            reading,
            None,
            False,
            False,
            "Dosing cannot start: " + "; ".join(c.message for c in blocking),
        )
    if not concerns:
        return Clearance((), reading, None, True, False, "Pre-dose checks are within limits.")
    decision = _covering_decision(pre_check, reading, decisions, bp_concern=bp_concern)
    if decision is not None and decision.decision == StartDecisionChoices.PROCEED:
        return Clearance(
            tuple(concerns),
            reading,
            decision,
            True,
            False,
            f"A prescriber decided to proceed: {decision.reason}",
        )
    return Clearance(
        tuple(concerns),
        reading,
        decision,
        False,
        True,
        "A prescriber must decide before dosing: " + "; ".join(c.message for c in concerns),
    )


def _covering_decision(
    pre_check: PreDoseCheck,
    reading: MonitoringEntry | None,
    decisions: Sequence[StartDecision],
    *,
    bp_concern: bool,
) -> StartDecision | None:
    for decision in sorted(decisions, key=lambda d: (d.decided_at, d.pk), reverse=True):
        if decision.pre_check_id != pre_check.pk:
            continue
        if bp_concern and (reading is None or decision.reading_id != reading.pk):
            continue
        return decision
    return None


def concerns_from_json(raw: Sequence[Mapping[str, Any]]) -> list[Concern]:
    """Concerns as stored back into objects."""
    return [Concern(**c) for c in raw]
