"""Time at the chair: readings due, infusion progress, device rests, chair time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.monitoring import VitalReading
from ketacare.clinical.protocols import Monitoring, get_protocol
from ketacare.clinical.timing import (
    ALL_DEVICES_GIVEN,
    COMPLETE_OK,
    MORE_THAN_ORDERED,
    REST_BETWEEN_DEVICES,
    AlarmRecord,
    DueReading,
    RateChange,
    chair_minutes,
    check_infusion_complete,
    infusion_progress,
    next_device,
    reading_near,
    readings_due,
    unanswered_alarms,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal
IV = get_protocol("iv_induction_6x").monitoring
ESK = get_protocol("esketamine_trd").monitoring


def m(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def due(
    monitoring: Monitoring = IV,
    *,
    now: datetime,
    ended: datetime | None = None,
    readings: Sequence[VitalReading] = (),
    started: datetime | None = T0,
    discharged: bool = False,
) -> list[DueReading]:
    return readings_due(
        monitoring,
        dosing_started_at=started,
        dosing_ended_at=ended,
        discharged=discharged,
        readings=readings,
        now=now,
    )


def test_nothing_is_due_before_dosing_or_after_discharge() -> None:
    assert due(started=None, now=m(5)) == []
    assert due(now=m(5), discharged=True) == []


def test_iv_vitals_are_due_every_10_minutes_while_dosing_and_overdue_after_the_grace() -> None:
    [on_time] = due(now=m(11))
    assert (on_time.at, on_time.overdue) == (m(10), False)
    [late] = due(now=m(13))
    assert (late.overdue, late.overdue_minutes) == (True, 3)
    [after] = due(readings=[VitalReading(m(10), heart_rate=70)], now=m(15))
    assert after.at == m(20)


def test_after_dosing_the_post_dose_interval_applies() -> None:
    [item] = due(ended=m(40), readings=[VitalReading(m(40), heart_rate=70)], now=m(50))
    assert item.at == m(55) and "15 min" in item.label


def test_esketamine_bp_about_40_minutes_is_due_then_missed() -> None:
    [item] = due(ESK, now=m(30))
    assert item.at == m(40) and not item.overdue
    [missed] = due(ESK, now=m(60))
    assert missed.overdue and "missed" in missed.label
    taken = [VitalReading(m(38), systolic=130, diastolic=80)]
    assert due(ESK, readings=taken, now=m(60)) == []


def test_an_infusion_runs_to_its_expected_end_then_overruns() -> None:
    progress = infusion_progress(
        IV, started_at=T0, rate_ml_per_h=D(150), volume_ml=D(100), changes=[], now=m(20)
    )
    assert (progress.infused_ml, progress.expected_end_at, progress.overrunning) == (
        D("50.00"),
        m(40),
        False,
    )
    late = infusion_progress(
        IV, started_at=T0, rate_ml_per_h=D(150), volume_ml=D(100), changes=[], now=m(50)
    )
    assert (late.infused_ml, late.overrunning, late.overrun_minutes) == (D("100.00"), True, 10)


def test_pauses_and_slowing_move_the_expected_end() -> None:
    changes = [
        RateChange("pause", m(10)),
        RateChange("resume", m(20)),
        RateChange("slow", m(30), D(75)),
    ]
    progress = infusion_progress(
        IV, started_at=T0, rate_ml_per_h=D(150), volume_ml=D(100), changes=changes, now=m(31)
    )
    # 25 mL by 10 min, paused 10 min, 25 mL more by 30 min; 50 mL left at 75 mL/h = 40 min
    assert progress.expected_end_at == m(70)
    assert progress.running and not progress.overrunning
    paused = infusion_progress(
        IV, started_at=T0, rate_ml_per_h=D(150), volume_ml=D(100), changes=changes[:1], now=m(90)
    )
    assert (paused.running, paused.expected_end_at, paused.overrunning) == (False, None, False)
    stopped = infusion_progress(
        IV,
        started_at=T0,
        rate_ml_per_h=D(150),
        volume_ml=D(100),
        changes=[RateChange("stop", m(10)), RateChange("resume", m(20))],
        now=m(30),
    )
    assert (stopped.running, stopped.infused_ml) == (False, D("25.00"))


@pytest.mark.parametrize(
    ("changes", "rate", "field"),
    [
        ([RateChange("slow", m(5))], D(150), "changes.rate_ml_per_h"),
        ([RateChange("jump", m(5))], D(150), "changes.kind"),
        ([RateChange("pause", m(5)), RateChange("resume", m(2))], D(150), "changes"),
        ([], D(0), "rate_ml_per_h"),
    ],
)
def test_impossible_rate_histories_are_invalid(
    changes: list[RateChange], rate: Decimal, field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        infusion_progress(
            IV, started_at=T0, rate_ml_per_h=rate, volume_ml=D(100), changes=changes, now=m(30)
        )
    assert error.value.field == field


def test_a_change_after_now_is_not_yet_counted() -> None:
    progress = infusion_progress(
        IV,
        started_at=T0,
        rate_ml_per_h=D(150),
        volume_ml=D(100),
        changes=[RateChange("pause", m(30))],
        now=m(10),
    )
    assert progress.infused_ml == D("25.00") and progress.running


def test_completion_checks_the_volume_recorded_against_the_rate() -> None:
    args = {"started_at": T0, "rate_ml_per_h": D(150), "volume_ml": D(100), "changes": []}
    partial = check_infusion_complete(IV, stopped_at=m(20), volume_infused_ml=D(50), **args)
    assert (partial.allowed, partial.code) == (True, COMPLETE_OK)
    over = check_infusion_complete(IV, stopped_at=m(40), volume_infused_ml=D(101), **args)
    assert over.code == MORE_THAN_ORDERED
    negative = check_infusion_complete(IV, stopped_at=m(40), volume_infused_ml=D(-1), **args)
    assert negative.code == MORE_THAN_ORDERED
    # within the 10% tolerance of the rate: 37 minutes gives 92.5 mL, x 1.1 > 100
    assert check_infusion_complete(IV, stopped_at=m(37), volume_infused_ml=None, **args).allowed
    paused = check_infusion_complete(
        IV,
        started_at=T0,
        rate_ml_per_h=D(150),
        volume_ml=D(100),
        changes=[RateChange("pause", m(10))],
        stopped_at=m(60),
        volume_infused_ml=None,
    )
    assert not paused.allowed and "should end" not in paused.reason


def test_esketamine_devices_keep_the_labels_rest_and_stop_at_the_order() -> None:
    first = next_device(ordered_devices=2, rest_min=5, given_at=[], at=T0)
    assert first.allowed and first.number == 1
    early = next_device(ordered_devices=2, rest_min=5, given_at=[T0], at=m(3))
    assert (early.code, early.earliest_at) == (REST_BETWEEN_DEVICES, m(5))
    assert next_device(ordered_devices=2, rest_min=5, given_at=[T0], at=m(5)).allowed
    done = next_device(ordered_devices=2, rest_min=5, given_at=[T0, m(5)], at=m(20))
    assert (done.allowed, done.code) == (False, ALL_DEVICES_GIVEN)


def test_chair_time_is_dosing_plus_observation() -> None:
    assert chair_minutes(get_protocol("iv_induction_6x")) == 40 + 30
    assert chair_minutes(get_protocol("esketamine_trd")) == 10 + 120
    assert chair_minutes(get_protocol("sublingual_home")) == 30


def test_the_reading_nearest_a_time_within_its_window_or_none() -> None:
    readings = [
        VitalReading(m(35), systolic=140, diastolic=80),
        VitalReading(m(44), systolic=138, diastolic=80),
        VitalReading(m(40), heart_rate=70),
    ]
    assert reading_near(readings, m(40), 10) == readings[1]
    assert reading_near(readings, m(80), 10) is None


def test_times_must_carry_their_zone() -> None:
    with pytest.raises(InvalidInput):
        reading_near([], datetime(2026, 3, 2, 9, 0), 10)  # noqa: DTZ001 - the point of the test


def test_unanswered_alarms_leave_out_pre_dose_findings_and_answered_ones() -> None:
    records = [
        AlarmRecord(3, m(20), False, ("heart_rate_low",), False),
        AlarmRecord(1, m(-5), True, ("start_recheck",), False),
        AlarmRecord(2, m(10), False, ("spo2_low",), True),
        AlarmRecord(4, m(5), False, ("bp_low",), False),
        AlarmRecord(5, m(30), False, (), False),
    ]
    assert [r.id for r in unanswered_alarms(records)] == [4, 3]
