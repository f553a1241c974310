"""The session's stored records as the core's facts: readings, start clearance, alarm policy.

The decisions are the core's (`ketacare.clinical.clearance`, `monitoring`); this module only
turns rows into frozen facts, so every step and page asks the core the same question.
"""

from collections.abc import Sequence

from ketacare.clinical.clearance import (
    Clearance,
    ClearanceFacts,
    Concern,
    DecisionFact,
    checklist_concerns,
)
from ketacare.clinical.clearance import start_clearance as core_start_clearance
from ketacare.clinical.monitoring import VitalReading
from ketacare.clinical.profiles import AlarmThresholds, tighten_alarms
from ketacare.clinical.protocols import Protocol
from ketacare.treatment.models import (
    AlarmPolicy,
    Dissociation,
    MonitoringEntry,
    MonitoringPhase,
    PreDoseCheck,
    StartDecision,
    StartDecisionChoices,
)

__all__ = [
    "Clearance",
    "Concern",
    "alarm_thresholds",
    "checklist_concerns",
    "clearance_facts",
    "pre_dose_picture",
    "start_clearance",
    "vital_reading",
]

VITAL_FIELDS = ("systolic", "diastolic", "heart_rate", "respiratory_rate", "spo2")


def vital_reading(entry: MonitoringEntry) -> VitalReading:
    """A stored reading as the core reads it."""
    return VitalReading(
        taken_at=entry.taken_at,
        systolic=entry.systolic,
        diastolic=entry.diastolic,
        heart_rate=entry.heart_rate,
        spo2=entry.spo2,
        moaas=entry.moaas,
        respiratory_rate=entry.respiratory_rate,
        dissociation=(None if not entry.dissociation else entry.dissociation != Dissociation.NONE),
        respiratory_depression=entry.respiratory_depression,
    )


def pre_dose_picture(
    entries: Sequence[MonitoringEntry],
) -> tuple[MonitoringEntry | None, VitalReading | None]:
    """The latest pre-dose reading with a blood pressure, and the latest value of every vital
    before dosing (a recheck of BP alone keeps the respiratory rate and SpO2 taken before)."""
    before = sorted(
        (e for e in entries if e.phase == MonitoringPhase.PRE_DOSE),
        key=lambda e: (e.taken_at, e.pk),
    )
    with_bp = [e for e in before if e.systolic is not None and e.diastolic is not None]
    if not before:
        return None, None
    latest: dict[str, int | None] = dict.fromkeys(VITAL_FIELDS)
    for entry in before:
        if entry.systolic is not None and entry.diastolic is not None:
            latest["systolic"], latest["diastolic"] = entry.systolic, entry.diastolic
        for name in ("heart_rate", "respiratory_rate", "spo2"):
            value = getattr(entry, name)
            if value is not None:
                latest[name] = value
    anchor = with_bp[-1] if with_bp else None
    return anchor, VitalReading(
        taken_at=before[-1].taken_at,
        systolic=latest["systolic"],
        diastolic=latest["diastolic"],
        heart_rate=latest["heart_rate"],
        respiratory_rate=latest["respiratory_rate"],
        spo2=latest["spo2"],
    )


def clearance_facts(
    *,
    pre_check: PreDoseCheck | None,
    entries: Sequence[MonitoringEntry],
    decisions: Sequence[StartDecision],
    thresholds: AlarmThresholds | None = None,
) -> ClearanceFacts:
    """The facts start clearance reads, from the session's rows."""
    anchor, picture = pre_dose_picture(entries)
    return ClearanceFacts(
        pre_check_id=pre_check.pk if pre_check is not None else None,
        checklist=tuple(Concern(**c) for c in pre_check.concerns) if pre_check else (),
        reading_id=anchor.pk if anchor is not None else None,
        reading=picture,
        decisions=tuple(
            DecisionFact(
                id=d.pk,
                pre_check_id=d.pre_check_id,
                reading_id=d.reading_id,
                proceed=d.decision == StartDecisionChoices.PROCEED,
                reason=d.reason,
                decided_at=d.decided_at,
            )
            for d in decisions
        ),
        thresholds=thresholds,
    )


def start_clearance(
    *,
    protocol: Protocol,
    pre_check: PreDoseCheck | None,
    entries: Sequence[MonitoringEntry],
    decisions: Sequence[StartDecision],
    thresholds: AlarmThresholds | None = None,
) -> Clearance:
    """The core's start clearance over the session's rows."""
    return core_start_clearance(
        protocol,
        clearance_facts(
            pre_check=pre_check, entries=entries, decisions=decisions, thresholds=thresholds
        ),
    )


def alarm_thresholds(protocol: Protocol, policy: AlarmPolicy | None) -> AlarmThresholds:
    """The protocol's alarm thresholds, tightened by the clinic's policy in force."""
    base = protocol.monitoring.alarms
    if policy is None or not policy.thresholds:
        return base
    return tighten_alarms(base, {str(k): int(v) for k, v in policy.thresholds.items()})
