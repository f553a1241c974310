"""Monitoring: start limits, in-session alarms and discharge (reference §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.monitoring import (
    ALARM_BP_HIGH,
    ALARM_BP_HIGH_RECHECK,
    ALARM_BP_VERY_HIGH,
    ALARM_DEEP_SEDATION,
    ALARM_HEART_RATE_HIGH,
    ALARM_HEART_RATE_HIGH_RECHECK,
    ALARM_SPO2_LOW,
    START_BLOCKED,
    START_OK,
    START_RECHECK,
    VitalAlarm,
    VitalReading,
    check_start_vitals,
    check_vitals,
    discharge_check,
)
from ketacare.clinical.protocols import Protocol, get_protocol

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
IV_CRITERIA = {
    "alert": True,
    "oriented": True,
    "vitals_near_baseline": True,
    "walking_steadily": True,
    "escort_present": True,
}


def iv() -> Protocol:
    return get_protocol("iv_induction_6x")


def at(minutes: float, **values: int) -> VitalReading:
    return VitalReading(T0 + timedelta(minutes=minutes), **values)


@pytest.mark.parametrize(
    ("systolic", "diastolic", "status"),
    [
        (139, 89, START_OK),
        (140, 80, START_RECHECK),
        (120, 90, START_RECHECK),
        (179, 109, START_RECHECK),
        (180, 70, START_BLOCKED),
        (120, 110, START_BLOCKED),
    ],
)
def test_start_blood_pressure_limits(systolic: int, diastolic: int, status: str) -> None:
    check = check_start_vitals(iv(), systolic, diastolic)
    assert check.status == status
    assert check.needs_prescriber is (status != START_OK)


@pytest.mark.parametrize(("systolic", "diastolic"), [(0, 80), (120, -1), (True, 80)])
def test_start_blood_pressure_must_be_positive_integers(systolic: int, diastolic: int) -> None:
    with pytest.raises(InvalidInput):
        check_start_vitals(iv(), systolic, diastolic)


def codes(alarms: list[VitalAlarm]) -> list[str]:
    return [alarm.code for alarm in alarms]


def test_normal_vitals_raise_nothing() -> None:
    assert (
        check_vitals(iv(), [], at(0, systolic=130, diastolic=80, heart_rate=80, spo2=98, moaas=5))
        == []
    )


def test_one_reading_at_180_110_asks_for_a_recheck() -> None:
    [alarm] = check_vitals(iv(), [], at(0, systolic=185, diastolic=100))
    assert alarm.code == ALARM_BP_HIGH_RECHECK and "5 minutes" in alarm.action


def test_two_readings_at_180_110_five_minutes_apart_pause_the_session() -> None:
    [alarm] = check_vitals(
        iv(), [at(0, systolic=185, diastolic=100)], at(5, systolic=150, diastolic=112)
    )
    assert alarm.code == ALARM_BP_HIGH and "prescriber" in alarm.action


def test_two_high_readings_under_five_minutes_apart_still_ask_for_a_recheck() -> None:
    alarms = check_vitals(
        iv(), [at(0, systolic=185, diastolic=100)], at(3, systolic=186, diastolic=100)
    )
    assert codes(alarms) == [ALARM_BP_HIGH_RECHECK]


def test_a_normal_reading_between_two_high_ones_breaks_the_confirmation() -> None:
    history = [
        at(0, systolic=185, diastolic=100),
        at(3, systolic=150, diastolic=90),
        at(4, heart_rate=90),
    ]
    assert codes(check_vitals(iv(), history, at(6, systolic=185, diastolic=100))) == [
        ALARM_BP_HIGH_RECHECK
    ]


@pytest.mark.parametrize(("systolic", "diastolic"), [(200, 100), (150, 120)])
def test_one_reading_at_200_120_pauses_at_once(systolic: int, diastolic: int) -> None:
    assert codes(check_vitals(iv(), [], at(0, systolic=systolic, diastolic=diastolic))) == [
        ALARM_BP_VERY_HIGH
    ]


def test_heart_rate_above_120_for_five_minutes_pauses_the_session() -> None:
    history = [at(0, heart_rate=125), at(2, heart_rate=130)]
    assert codes(check_vitals(iv(), history, at(5, heart_rate=122))) == [ALARM_HEART_RATE_HIGH]


def test_readings_without_a_heart_rate_do_not_break_a_run_of_fast_heart_rates() -> None:
    history = [at(0, heart_rate=125), at(3, systolic=130, diastolic=80)]
    assert codes(check_vitals(iv(), history, at(5, heart_rate=125))) == [ALARM_HEART_RATE_HIGH]


def test_heart_rate_above_120_briefly_asks_for_a_recheck() -> None:
    assert codes(check_vitals(iv(), [], at(0, heart_rate=121))) == [ALARM_HEART_RATE_HIGH_RECHECK]
    history = [at(0, heart_rate=125), at(2, heart_rate=110)]
    assert codes(check_vitals(iv(), history, at(5, heart_rate=125))) == [
        ALARM_HEART_RATE_HIGH_RECHECK
    ]


def test_heart_rate_of_exactly_120_is_not_an_alarm() -> None:
    assert check_vitals(iv(), [at(0, heart_rate=120)], at(5, heart_rate=120)) == []


@pytest.mark.parametrize(("spo2", "expected"), [(91, [ALARM_SPO2_LOW]), (92, [])])
def test_spo2_below_92_pauses_the_session(spo2: int, expected: list[str]) -> None:
    assert codes(check_vitals(iv(), [], at(0, spo2=spo2))) == expected


@pytest.mark.parametrize(
    ("moaas", "expected"), [(2, [ALARM_DEEP_SEDATION]), (0, [ALARM_DEEP_SEDATION]), (3, [])]
)
def test_moaas_at_or_below_2_pauses_the_session(moaas: int, expected: list[str]) -> None:
    assert codes(check_vitals(get_protocol("esketamine_trd"), [], at(0, moaas=moaas))) == expected


def test_several_alarms_can_fire_together() -> None:
    alarms = check_vitals(iv(), [], at(0, systolic=210, diastolic=125, spo2=88, moaas=1))
    assert codes(alarms) == [ALARM_BP_VERY_HIGH, ALARM_SPO2_LOW, ALARM_DEEP_SEDATION]


@pytest.mark.parametrize(
    ("reading", "field"),
    [
        (VitalReading(datetime(2025, 3, 3, 9, 0), systolic=120), "new_reading.taken_at"),  # noqa: DTZ001 - naive on purpose
        (at(0, spo2=101), "new_reading.spo2"),
        (at(0, moaas=6), "new_reading.moaas"),
        (at(0, heart_rate=0), "new_reading.heart_rate"),
    ],
)
def test_malformed_readings_are_rejected(reading: VitalReading, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        check_vitals(iv(), [], reading)
    assert error.value.field == field


def test_a_reading_older_than_the_history_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="time order"):
        check_vitals(iv(), [at(10, heart_rate=80)], at(5, heart_rate=80))


# --- discharge ------------------------------------------------------------------------------


def test_iv_discharge_is_refused_before_30_minutes_even_with_every_criterion_met() -> None:
    check = discharge_check(iv(), T0, T0 + timedelta(minutes=29, seconds=30), IV_CRITERIA)
    assert (check.may_discharge, check.remaining_minutes, check.unmet_criteria) == (False, 1, [])


def test_iv_discharge_is_allowed_after_30_minutes_with_every_criterion_met() -> None:
    check = discharge_check(iv(), T0, T0 + timedelta(minutes=30), IV_CRITERIA)
    assert (check.may_discharge, check.remaining_minutes) == (True, 0)


def test_discharge_names_the_unmet_and_unrecorded_criteria() -> None:
    criteria = {**IV_CRITERIA, "walking_steadily": False}
    del criteria["escort_present"]
    check = discharge_check(iv(), T0, T0 + timedelta(hours=2), criteria)
    assert (check.may_discharge, check.unmet_criteria) == (
        False,
        ["walking_steadily", "escort_present"],
    )
    assert "escort_present" in check.reason


def test_discharge_is_refused_before_two_hours_after_esketamine() -> None:
    protocol = get_protocol("esketamine_trd")
    criteria = dict.fromkeys(protocol.monitoring.discharge_criteria, True)
    early = discharge_check(protocol, T0, T0 + timedelta(minutes=119), criteria)
    on_time = discharge_check(protocol, T0, T0 + timedelta(minutes=120), criteria)
    assert (early.may_discharge, early.remaining_minutes) == (False, 1)
    assert on_time.may_discharge


def test_esketamine_discharge_needs_sedation_dissociation_and_respiratory_depression_resolved() -> (
    None
):
    protocol = get_protocol("esketamine_trd")
    criteria = {
        **dict.fromkeys(protocol.monitoring.discharge_criteria, True),
        "dissociation_resolved": False,
    }
    check = discharge_check(protocol, T0, T0 + timedelta(hours=3), criteria)
    assert check.unmet_criteria == ["dissociation_resolved"]


def test_an_unknown_discharge_criterion_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="unknown discharge criterion") as error:
        discharge_check(iv(), T0, T0 + timedelta(hours=1), {**IV_CRITERIA, "alret": True})
    assert error.value.field == "criteria.alret"


def test_discharge_needs_aware_times_in_order() -> None:
    with pytest.raises(InvalidInput) as error:
        discharge_check(iv(), T0, T0 - timedelta(minutes=1), IV_CRITERIA)
    assert error.value.field == "now"
    with pytest.raises(InvalidInput, match="timezone-aware"):
        discharge_check(iv(), T0.replace(tzinfo=None), T0, IV_CRITERIA)
