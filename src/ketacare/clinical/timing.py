"""Time at the chair: readings due, infusion progress and overrun, device rests, chair time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.monitoring import VitalReading
from ketacare.clinical.protocols import DeviceDose, Monitoring, Protocol, WeightBasedDose

MINUTES_PER_HOUR = Decimal(60)
SECONDS_PER_MINUTE = 60

DEVICE_OK = "ok"
ALL_DEVICES_GIVEN = "all_devices_given"
REST_BETWEEN_DEVICES = "rest_between_devices"

CHANGE_PAUSE = "pause"
CHANGE_RESUME = "resume"
CHANGE_SLOW = "slow"
CHANGE_STOP = "stop"

COMPLETE_OK = "ok"
COMPLETED_TOO_EARLY = "completed_too_early"
MORE_THAN_RATE_ALLOWS = "more_than_rate_allows"
MORE_THAN_ORDERED = "more_than_ordered"
# Policy default, not in the reference: a pump's delivered volume may differ from rate x time by
# this fraction (occlusion pauses, rounding) before the record is refused as impossible.
INFUSION_TOLERANCE = Decimal("0.10")


@dataclass(frozen=True)
class DueReading:
    """A reading the protocol asks for: when, why, and whether it is overdue now."""

    at: datetime
    label: str
    overdue: bool
    overdue_minutes: int


@dataclass(frozen=True)
class RateChange:
    """A pause, resume, slow (with its new rate) or stop of a running infusion."""

    kind: str
    at: datetime
    rate_ml_per_h: Decimal | None = None


@dataclass(frozen=True)
class InfusionProgress:
    """What a pump at these rates has delivered by `now`, and when it should end."""

    infused_ml: Decimal
    expected_end_at: datetime | None
    running: bool
    overrunning: bool
    overrun_minutes: int


@dataclass(frozen=True)
class InfusionCompletion:
    """Whether an infusion can truly be complete at this time with this volume."""

    allowed: bool
    code: str
    reason: str
    infused_by_rate_ml: Decimal


@dataclass(frozen=True)
class DeviceCheck:
    """Whether the next esketamine device may be used now, and the earliest time if not."""

    allowed: bool
    code: str
    reason: str
    earliest_at: datetime | None
    number: int


def readings_due(
    monitoring: Monitoring,
    *,
    dosing_started_at: datetime | None,
    dosing_ended_at: datetime | None,
    discharged: bool,
    readings: Sequence[VitalReading],
    now: datetime,
) -> list[DueReading]:
    """Readings the profile asks for next: by interval while dosing or observing, and the fixed
    checks after the dose (esketamine: BP at about 40 minutes), each overdue after the grace."""
    _aware(now, "now")
    if dosing_started_at is None or discharged:
        return []
    grace = timedelta(minutes=monitoring.timeliness.reading_grace_min)
    window = timedelta(minutes=monitoring.timeliness.fixed_check_window_min)
    dosing = dosing_ended_at is None or now < dosing_ended_at
    interval = (
        monitoring.vitals_interval_min
        if dosing
        else (monitoring.post_dose_vitals_interval_min or monitoring.vitals_interval_min)
    )
    due: list[DueReading] = []
    if interval:
        last = max(
            (r.taken_at for r in readings if r.taken_at >= dosing_started_at),
            default=dosing_started_at,
        )
        at = last + timedelta(minutes=interval)
        due.append(_due(at, f"Vital signs every {interval} min", now, grace))
    for minutes in monitoring.bp_checks_after_dose_min:
        at = dosing_started_at + timedelta(minutes=minutes)
        taken = any(r.systolic is not None and abs(r.taken_at - at) <= window for r in readings)
        if not taken and now <= at + window:
            due.append(_due(at, f"Blood pressure about {minutes} min after the dose", now, grace))
        elif not taken:
            due.append(
                _due(at, f"Blood pressure about {minutes} min after the dose: missed", now, grace)
            )
    return due


def _due(at: datetime, label: str, now: datetime, grace: timedelta) -> DueReading:
    late = now - (at + grace)
    overdue = late.total_seconds() > 0
    minutes = int((now - at).total_seconds() // SECONDS_PER_MINUTE) if overdue else 0
    return DueReading(at, label, overdue, minutes)


def infusion_progress(
    monitoring: Monitoring,
    *,
    started_at: datetime,
    rate_ml_per_h: Decimal,
    volume_ml: Decimal,
    changes: Sequence[RateChange],
    now: datetime,
) -> InfusionProgress:
    """Volume delivered by rate x running time (pauses excluded), the expected end, and overrun.

    `changes` are in time order; an infusion still running past its expected end plus the
    profile's grace is overrunning (the pump or the record is wrong: look).
    """
    _aware(now, "now")
    pump = _simulate(started_at, rate_ml_per_h, changes, now)
    infused = min(pump.infused_ml, volume_ml)
    expected_end = None
    overrun_minutes = 0
    if pump.running:
        left = max(volume_ml - pump.infused_at_last_change_ml, Decimal(0))
        expected_end = pump.last_change_at + timedelta(hours=float(left / pump.rate_ml_per_h))
        grace = timedelta(minutes=monitoring.timeliness.infusion_overrun_grace_min)
        if now > expected_end + grace:
            overrun_minutes = int((now - expected_end).total_seconds() // SECONDS_PER_MINUTE)
    return InfusionProgress(
        infused_ml=infused.quantize(Decimal("0.01")),
        expected_end_at=expected_end,
        running=pump.running,
        overrunning=overrun_minutes > 0,
        overrun_minutes=overrun_minutes,
    )


@dataclass(frozen=True)
class _Pump:
    infused_ml: Decimal
    infused_at_last_change_ml: Decimal
    running: bool
    rate_ml_per_h: Decimal
    last_change_at: datetime


def _simulate(
    started_at: datetime, rate: Decimal, changes: Sequence[RateChange], until: datetime
) -> _Pump:
    """Run the pump from the start through the changes up to `until`."""
    _aware(started_at, "started_at")
    if rate <= 0:
        raise InvalidInput("the pump rate must be above 0 mL/h", field="rate_ml_per_h")
    infused = Decimal(0)
    running = True
    moment = started_at
    for change in changes:
        _aware(change.at, "changes.at")
        if change.at < moment:
            raise InvalidInput("rate changes must be in time order", field="changes")
        if change.at > until:
            break
        if running:
            infused += _volume(rate, change.at - moment)
        moment = change.at
        if change.kind == CHANGE_PAUSE:
            running = False
        elif change.kind == CHANGE_RESUME:
            running = True
        elif change.kind == CHANGE_SLOW:
            if change.rate_ml_per_h is None or change.rate_ml_per_h <= 0:
                raise InvalidInput("slowing needs the new rate", field="changes.rate_ml_per_h")
            rate = change.rate_ml_per_h
        elif change.kind == CHANGE_STOP:
            running = False
            break
        else:
            raise InvalidInput(f"unknown change {change.kind!r}", field="changes.kind")
    at_last_change = infused
    if running and until > moment:
        infused += _volume(rate, until - moment)
    return _Pump(infused, at_last_change, running, rate, moment)


def _volume(rate_ml_per_h: Decimal, span: timedelta) -> Decimal:
    seconds = Decimal(int(span.total_seconds()))
    return rate_ml_per_h * seconds / (MINUTES_PER_HOUR * SECONDS_PER_MINUTE)


def check_infusion_complete(
    monitoring: Monitoring,
    *,
    started_at: datetime,
    rate_ml_per_h: Decimal,
    volume_ml: Decimal,
    changes: Sequence[RateChange],
    stopped_at: datetime,
    volume_infused_ml: Decimal | None,
) -> InfusionCompletion:
    """Whether "complete" can be true: the pump at its rates must have had time to run the bag.

    A 100 mL bag at 150 mL/h needs 40 minutes: complete after 2 minutes, or "100 mL infused"
    when the rate allows 5 mL, is refused (beyond the policy tolerance for pump variation).
    """
    progress = infusion_progress(
        monitoring,
        started_at=started_at,
        rate_ml_per_h=rate_ml_per_h,
        volume_ml=volume_ml,
        changes=changes,
        now=stopped_at,
    )
    by_rate = _simulate(started_at, rate_ml_per_h, changes, stopped_at).infused_ml
    ceiling = by_rate * (1 + INFUSION_TOLERANCE)
    shown = min(by_rate, volume_ml).quantize(Decimal("0.1"))
    if volume_infused_ml is not None:
        if volume_infused_ml < 0 or volume_infused_ml > volume_ml:
            return InfusionCompletion(
                False,
                MORE_THAN_ORDERED,
                f"the volume infused cannot exceed the {volume_ml} mL ordered",
                shown,
            )
        if volume_infused_ml > ceiling:
            return InfusionCompletion(
                False,
                MORE_THAN_RATE_ALLOWS,
                f"{volume_infused_ml} mL cannot have run at the recorded rate by then: the pump "
                f"delivers about {shown} mL in that time",
                shown,
            )
        return InfusionCompletion(True, COMPLETE_OK, "consistent with the rate", shown)
    if ceiling < volume_ml:
        end = progress.expected_end_at
        return InfusionCompletion(
            False,
            COMPLETED_TOO_EARLY,
            f"the {volume_ml} mL cannot have run by then: about {shown} mL at the recorded rate"
            + (f"; it should end about {end:%H:%M} UTC" if end else "")
            + ". Record the volume actually infused, or stop the infusion with a reason",
            shown,
        )
    return InfusionCompletion(True, COMPLETE_OK, "consistent with the rate", shown)


def next_device(
    *, ordered_devices: int, rest_min: int, given_at: Sequence[datetime], at: datetime
) -> DeviceCheck:
    """Whether the next esketamine device may be used at `at` (the label's rest between)."""
    _aware(at, "at")
    number = len(given_at) + 1
    if len(given_at) >= ordered_devices:
        return DeviceCheck(
            False,
            ALL_DEVICES_GIVEN,
            f"all {ordered_devices} devices of the order are recorded",
            None,
            number,
        )
    if not given_at:
        return DeviceCheck(True, DEVICE_OK, "first device", at, number)
    earliest = max(given_at) + timedelta(minutes=rest_min)
    if at < earliest:
        return DeviceCheck(
            False,
            REST_BETWEEN_DEVICES,
            f"the label asks for {rest_min} minutes' rest between devices: device {number} "
            f"not before {earliest:%H:%M} UTC",
            earliest,
            number,
        )
    return DeviceCheck(True, DEVICE_OK, f"device {number} of {ordered_devices}", earliest, number)


def chair_minutes(protocol: Protocol) -> int:
    """Chair time a session needs: dosing time (an infusion's duration, or the rests between the
    devices of the largest allowed dose) plus the profile's minimum observation."""
    dose = protocol.dose
    dosing = 0
    if isinstance(dose, WeightBasedDose) and dose.duration_min is not None:
        dosing = dose.duration_min
    elif isinstance(dose, DeviceDose):
        devices = max(dose.allowed_mg) // dose.device_mg
        dosing = (devices - 1) * dose.rest_between_devices_min
    return dosing + protocol.monitoring.observation_min


def reading_near(
    readings: Sequence[VitalReading], target: datetime, window_min: int
) -> VitalReading | None:
    """The reading with a blood pressure nearest `target` within the window, else None (missing).

    The REMS form's "BP at 40 minutes" is this reading; a 5-minute reading is never it.
    """
    _aware(target, "target")
    window = timedelta(minutes=window_min)
    near = [r for r in readings if r.systolic is not None and abs(r.taken_at - target) <= window]
    if not near:
        return None
    return min(near, key=lambda r: (abs(r.taken_at - target), r.taken_at))


def _aware(value: object, field: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be a timezone-aware datetime, got {value!r}", field=field)


@dataclass(frozen=True)
class AlarmRecord:
    """A reading's alarms as the core reads them: before dosing or not, and answered or not."""

    id: int
    taken_at: datetime
    pre_dose: bool
    alarm_codes: tuple[str, ...]
    answered: bool


def unanswered_alarms(records: Sequence[AlarmRecord]) -> list[AlarmRecord]:
    """Alarms with no recorded action, oldest first (pre-dose start findings are decided through
    start clearance instead); each holds discharge and is shown where the nurse looks."""
    return sorted(
        (r for r in records if not r.pre_dose and r.alarm_codes and not r.answered),
        key=lambda r: (r.taken_at, r.id),
    )
