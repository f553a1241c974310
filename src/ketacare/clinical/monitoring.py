"""Pure in-session checks: blood pressure before dosing, vital-sign alarms, and discharge."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.protocols import AlarmThresholds, Protocol

START_OK = "ok"
START_RECHECK = "recheck"
START_BLOCKED = "blocked"
START_INCOMPLETE = "incomplete"

ALARM_BP_VERY_HIGH = "bp_very_high"
ALARM_BP_HIGH = "bp_high"
ALARM_BP_HIGH_RECHECK = "bp_high_recheck"
ALARM_HEART_RATE_HIGH = "heart_rate_high"
ALARM_HEART_RATE_HIGH_RECHECK = "heart_rate_high_recheck"
ALARM_SPO2_LOW = "spo2_low"
ALARM_DEEP_SEDATION = "deep_sedation"
ALARM_HEART_RATE_LOW = "heart_rate_low"
ALARM_BP_LOW = "bp_low"
ALARM_BP_FALL = "bp_fall"
ALARM_RESPIRATORY_RATE_LOW = "respiratory_rate_low"

ACTION_PAUSE = "Pause dosing and call the prescriber."

SECONDS_PER_MINUTE = 60
# MOAA/S 5: responds readily to name spoken in a normal tone (Chernik 1990): sedation resolved.
MOAAS_ALERT = 5


@dataclass(frozen=True)
class VitalReading:
    """One set of observations at a timezone-aware time; any measurement may be absent."""

    taken_at: datetime
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    moaas: int | None = None
    respiratory_rate: int | None = None
    dissociation: bool | None = None
    respiratory_depression: bool | None = None


@dataclass(frozen=True)
class StartCheck:
    """Whether dosing may start: ok, recheck (prescriber decides), blocked, or incomplete.

    `missing` names the pre-dose observations not recorded (incomplete never starts).
    """

    status: str
    reason: str
    missing: tuple[str, ...] = field(default=())

    @property
    def needs_prescriber(self) -> bool:
        """True unless the blood pressure is within the start limits."""
        return self.status != START_OK


@dataclass(frozen=True)
class VitalAlarm:
    """An in-session alarm: a code, what was seen, and what to do."""

    code: str
    message: str
    action: str


@dataclass(frozen=True)
class DischargeCheck:
    """Whether the patient may leave: observation time left and the criteria not yet met."""

    may_discharge: bool
    remaining_minutes: int
    unmet_criteria: list[str]
    reason: str
    override_allowed: bool = True
    contradicted: tuple[str, ...] = ()


def check_start_vitals(protocol: Protocol, systolic: int, diastolic: int) -> StartCheck:
    """Check blood pressure before dosing against the protocol's start limits."""
    _check_measure(systolic, "systolic", 1, None)
    _check_measure(diastolic, "diastolic", 1, None)
    limits = protocol.monitoring.start_limits
    reading = f"{systolic}/{diastolic} mmHg"
    if systolic >= limits.block_systolic or diastolic >= limits.block_diastolic:
        return StartCheck(
            START_BLOCKED,
            f"{reading} is at or above {limits.block_systolic}/{limits.block_diastolic}: "
            "do not start; treat and reassess",
        )
    if systolic >= limits.recheck_systolic or diastolic >= limits.recheck_diastolic:
        return StartCheck(
            START_RECHECK,
            f"{reading} is at or above {limits.recheck_systolic}/{limits.recheck_diastolic}: "
            "recheck, and the prescriber decides whether to start",
        )
    return StartCheck(START_OK, f"{reading} is within the start limits")


def check_pre_dose(
    protocol: Protocol, reading: VitalReading, *, thresholds: AlarmThresholds | None = None
) -> StartCheck:
    """Check the last observations before dosing: all recorded, BP within limits, none alarming.

    A missing observation the profile requires (BP, heart rate, respiratory rate, SpO2) is
    `incomplete`: dosing does not start until it is recorded. A blood pressure at the block limit
    is `blocked`; at the recheck limit, or any other vital at an alarm level, it is `recheck`.
    """
    _check_reading(reading)
    required = protocol.monitoring.pre_dose_required
    missing = tuple(name for name in required if getattr(reading, name) is None)
    if missing:
        return StartCheck(
            START_INCOMPLETE,
            "record before dosing: " + ", ".join(_LABELS[name] for name in missing),
            missing,
        )
    if reading.systolic is None or reading.diastolic is None:
        # Blood pressure is always needed before dosing, whatever a profile lists (fail closed).
        return StartCheck(START_INCOMPLETE, "record before dosing: blood pressure", ("systolic",))
    bp = check_start_vitals(protocol, reading.systolic, reading.diastolic)
    if bp.status == START_BLOCKED:
        return bp
    limits = thresholds or protocol.monitoring.alarms
    low = [
        alarm.message for alarm in _low_alarms(limits, reading, None) if alarm.code != ALARM_BP_FALL
    ]
    if reading.spo2 is not None and reading.spo2 < limits.spo2_below:
        low.append(f"SpO2 {reading.spo2}% is below {limits.spo2_below}%")
    if reading.heart_rate is not None and reading.heart_rate > limits.heart_rate_above:
        low.append(f"heart rate {reading.heart_rate}/min is above {limits.heart_rate_above}")
    if bp.status == START_RECHECK:
        low.insert(0, bp.reason)
    if low:
        return StartCheck(
            START_RECHECK, "; ".join(low) + ": recheck, and the prescriber decides whether to start"
        )
    return StartCheck(START_OK, bp.reason)


_LABELS = {
    "systolic": "systolic BP",
    "diastolic": "diastolic BP",
    "heart_rate": "heart rate",
    "respiratory_rate": "respiratory rate",
    "spo2": "SpO2",
}


def check_vitals(
    protocol: Protocol,
    readings_so_far: Sequence[VitalReading],
    new_reading: VitalReading,
    *,
    pre_dose_systolic: int | None = None,
    thresholds: AlarmThresholds | None = None,
) -> list[VitalAlarm]:
    """The alarms a new reading raises, given the session's earlier readings (oldest first).

    `pre_dose_systolic` is the last systolic pressure before dosing, for the alarm on a fall of
    more than the threshold percentage; `thresholds` are the clinic's (only ever tighter).
    """
    _check_reading(new_reading)
    for earlier in readings_so_far:
        if earlier.taken_at > new_reading.taken_at:
            raise InvalidInput(
                "new_reading is older than an earlier reading; readings must be in time order",
                field="new_reading.taken_at",
            )
    if pre_dose_systolic is not None:
        _check_measure(pre_dose_systolic, "pre_dose_systolic", 1, None)
    limits = thresholds or protocol.monitoring.alarms
    history = list(reversed(readings_so_far))
    alarms = _blood_pressure_alarms(limits, history, new_reading)
    alarms += _heart_rate_alarms(limits, history, new_reading)
    alarms += _low_alarms(limits, new_reading, pre_dose_systolic)
    if new_reading.spo2 is not None and new_reading.spo2 < limits.spo2_below:
        alarms.append(
            VitalAlarm(
                ALARM_SPO2_LOW,
                f"SpO2 {new_reading.spo2}% is below {limits.spo2_below}%",
                ACTION_PAUSE,
            )
        )
    if new_reading.moaas is not None and new_reading.moaas <= limits.moaas_at_or_below:
        alarms.append(
            VitalAlarm(
                ALARM_DEEP_SEDATION,
                f"MOAA/S {new_reading.moaas} is at or below {limits.moaas_at_or_below}",
                ACTION_PAUSE,
            )
        )
    return alarms


def _low_alarms(
    limits: AlarmThresholds, new: VitalReading, pre_dose_systolic: int | None
) -> list[VitalAlarm]:
    alarms = []
    if new.heart_rate is not None and new.heart_rate < limits.heart_rate_below:
        alarms.append(
            VitalAlarm(
                ALARM_HEART_RATE_LOW,
                f"heart rate {new.heart_rate}/min is below {limits.heart_rate_below}",
                ACTION_PAUSE,
            )
        )
    if new.systolic is not None and new.systolic < limits.systolic_below:
        alarms.append(
            VitalAlarm(
                ALARM_BP_LOW,
                f"BP {new.systolic}/{new.diastolic or '-'} mmHg: systolic below "
                f"{limits.systolic_below}",
                ACTION_PAUSE,
            )
        )
    elif new.systolic is not None and pre_dose_systolic is not None:
        # Integer arithmetic: a fall of more than N% means fall * 100 > N * baseline.
        fall = pre_dose_systolic - new.systolic
        if fall * 100 > limits.systolic_fall_percent_above * pre_dose_systolic:
            alarms.append(
                VitalAlarm(
                    ALARM_BP_FALL,
                    f"systolic {new.systolic} mmHg has fallen more than "
                    f"{limits.systolic_fall_percent_above}% from {pre_dose_systolic} before dosing",
                    ACTION_PAUSE,
                )
            )
    if new.respiratory_rate is not None and new.respiratory_rate < limits.respiratory_rate_below:
        alarms.append(
            VitalAlarm(
                ALARM_RESPIRATORY_RATE_LOW,
                f"respiratory rate {new.respiratory_rate}/min is below "
                f"{limits.respiratory_rate_below}",
                ACTION_PAUSE,
            )
        )
    return alarms


def discharge_check(
    protocol: Protocol,
    dosing_ended_at: datetime,
    now: datetime,
    criteria: Mapping[str, bool],
    *,
    latest: VitalReading | None = None,
    unanswered_alarms: int = 0,
) -> DischargeCheck:
    """Whether the minimum observation has passed and every discharge criterion is met.

    The clock starts at the end of dosing (for esketamine, after the last device: stricter than the
    REMS count from the first device). A criterion missing from `criteria` counts as unmet; a
    criterion ticked but contradicted by the latest observations (`latest`: sedation, dissociation
    or respiratory depression still recorded) counts as unmet and is named. An alarm nobody
    answered holds discharge. `override_allowed` says whether a prescriber may discharge anyway
    (never for esketamine: the REMS asks for 2 hours and resolution, with no exception).
    """
    _check_aware(dosing_ended_at, "dosing_ended_at")
    _check_aware(now, "now")
    if now < dosing_ended_at:
        raise InvalidInput("now is before dosing_ended_at", field="now")
    monitoring = protocol.monitoring
    unknown = sorted(set(criteria) - set(monitoring.discharge_criteria))
    if unknown:
        raise InvalidInput(
            f"unknown discharge criterion {unknown[0]!r}; {protocol.id} uses: "
            f"{', '.join(monitoring.discharge_criteria)}",
            field=f"criteria.{unknown[0]}",
        )
    elapsed = now - dosing_ended_at
    remaining = timedelta(minutes=monitoring.observation_min) - elapsed
    remaining_minutes = max(0, math.ceil(remaining.total_seconds() / SECONDS_PER_MINUTE))
    contradicted = _contradicted(protocol, latest)
    unmet = [
        name
        for name in monitoring.discharge_criteria
        if criteria.get(name) is not True or name in contradicted
    ]
    problems = []
    if remaining_minutes:
        problems.append(
            f"{remaining_minutes} of the minimum {monitoring.observation_min} minutes of "
            "observation remain"
        )
    if unmet:
        problems.append(f"not yet met: {', '.join(unmet)}")
    for name, why in contradicted.items():
        problems.append(f"{name} is contradicted by the latest reading ({why})")
    if unanswered_alarms:
        problems.append(f"{unanswered_alarms} alarm(s) have no recorded action")
    reason = (
        "; ".join(problems) if problems else "observation time and all discharge criteria are met"
    )
    return DischargeCheck(
        not problems,
        remaining_minutes,
        unmet,
        reason,
        override_allowed=monitoring.early_discharge_override,
        contradicted=tuple(contradicted),
    )


def _contradicted(protocol: Protocol, latest: VitalReading | None) -> dict[str, str]:
    """Criteria the latest observations contradict (fail closed: what is seen beats a tick)."""
    if latest is None:
        return {}
    criteria = protocol.monitoring.discharge_criteria
    limits = protocol.monitoring.alarms
    found: dict[str, str] = {}
    if "sedation_resolved" in criteria and latest.moaas is not None and latest.moaas < MOAAS_ALERT:
        found["sedation_resolved"] = f"MOAA/S {latest.moaas}"
    if "dissociation_resolved" in criteria and latest.dissociation:
        found["dissociation_resolved"] = "dissociation recorded"
    if "respiratory_depression_resolved" in criteria:
        if latest.respiratory_depression:
            found["respiratory_depression_resolved"] = "respiratory depression recorded"
        elif latest.spo2 is not None and latest.spo2 < limits.spo2_below:
            found["respiratory_depression_resolved"] = f"SpO2 {latest.spo2}%"
        elif (
            latest.respiratory_rate is not None
            and latest.respiratory_rate < limits.respiratory_rate_below
        ):
            found["respiratory_depression_resolved"] = (
                f"respiratory rate {latest.respiratory_rate}/min"
            )
    return found


def _blood_pressure_alarms(
    thresholds: AlarmThresholds, history: list[VitalReading], new: VitalReading
) -> list[VitalAlarm]:
    if new.systolic is None and new.diastolic is None:
        return []
    reading = f"BP {new.systolic or '-'}/{new.diastolic or '-'} mmHg"
    if _at_or_above(new, thresholds.bp_once_systolic, thresholds.bp_once_diastolic):
        return [
            VitalAlarm(
                ALARM_BP_VERY_HIGH,
                f"{reading} is at or above "
                f"{thresholds.bp_once_systolic}/{thresholds.bp_once_diastolic}",
                ACTION_PAUSE,
            )
        ]
    high = (thresholds.bp_confirmed_systolic, thresholds.bp_confirmed_diastolic)
    if not _at_or_above(new, *high):
        return []
    wait = timedelta(minutes=thresholds.bp_confirm_after_min)
    for earlier in history:
        if earlier.systolic is None and earlier.diastolic is None:
            continue
        if not _at_or_above(earlier, *high):
            break
        if new.taken_at - earlier.taken_at >= wait:
            return [
                VitalAlarm(
                    ALARM_BP_HIGH,
                    f"{reading}: at or above {high[0]}/{high[1]} on two readings "
                    f"{thresholds.bp_confirm_after_min} or more minutes apart",
                    ACTION_PAUSE,
                )
            ]
    return [
        VitalAlarm(
            ALARM_BP_HIGH_RECHECK,
            f"{reading} is at or above {high[0]}/{high[1]}",
            f"Recheck in {thresholds.bp_confirm_after_min} minutes; pause and call the prescriber "
            "if it persists.",
        )
    ]


def _heart_rate_alarms(
    thresholds: AlarmThresholds, history: list[VitalReading], new: VitalReading
) -> list[VitalAlarm]:
    if new.heart_rate is None or new.heart_rate <= thresholds.heart_rate_above:
        return []
    since = new.taken_at
    for earlier in history:
        if earlier.heart_rate is None:
            continue
        if earlier.heart_rate <= thresholds.heart_rate_above:
            break
        since = earlier.taken_at
    lasting = new.taken_at - since >= timedelta(minutes=thresholds.heart_rate_for_min)
    if lasting:
        return [
            VitalAlarm(
                ALARM_HEART_RATE_HIGH,
                f"heart rate {new.heart_rate}/min, above {thresholds.heart_rate_above} "
                f"for {thresholds.heart_rate_for_min} minutes or more",
                ACTION_PAUSE,
            )
        ]
    return [
        VitalAlarm(
            ALARM_HEART_RATE_HIGH_RECHECK,
            f"heart rate {new.heart_rate}/min is above {thresholds.heart_rate_above}",
            f"Recheck; pause and call the prescriber if it stays above "
            f"{thresholds.heart_rate_above} for {thresholds.heart_rate_for_min} minutes.",
        )
    ]


def _at_or_above(reading: VitalReading, systolic: int, diastolic: int) -> bool:
    return (reading.systolic is not None and reading.systolic >= systolic) or (
        reading.diastolic is not None and reading.diastolic >= diastolic
    )


def _check_reading(reading: VitalReading) -> None:
    _check_aware(reading.taken_at, "new_reading.taken_at")
    # Definitional bounds only: SpO2 is a percentage, MOAA/S is 0-5; pressures and rates positive.
    bounds: dict[str, tuple[int, int | None]] = {
        "systolic": (1, None),
        "diastolic": (1, None),
        "heart_rate": (1, None),
        "spo2": (0, 100),
        "moaas": (0, 5),
        "respiratory_rate": (1, None),
    }
    for name, (low, high) in bounds.items():
        value = getattr(reading, name)
        if value is not None:
            _check_measure(value, f"new_reading.{name}", low, high)


def _check_measure(value: object, field: str, low: int, high: int | None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        limits = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InvalidInput(f"{field} must be an integer {limits}, got {value!r}", field=field)


def _check_aware(value: object, field: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be a timezone-aware datetime, got {value!r}", field=field)
