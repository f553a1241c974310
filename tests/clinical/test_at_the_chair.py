"""The chair-side findings, each reproduced against the core: every one failed the old way."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ketacare.clinical import HardStop
from ketacare.clinical.clearance import checklist_concerns, pregnancy_test_required
from ketacare.clinical.dosing import (
    DELIVERED_DIFFERS,
    INFUSION_BELOW_HARD_STOP,
    INFUSION_TOO_SHORT,
    iv_dose,
)
from ketacare.clinical.history import TimedScore, baseline_index
from ketacare.clinical.monitoring import (
    ALARM_BP_LOW,
    ALARM_HEART_RATE_LOW,
    ALARM_RESPIRATORY_RATE_LOW,
    START_INCOMPLETE,
    VitalReading,
    check_pre_dose,
    check_vitals,
    discharge_check,
)
from ketacare.clinical.plausibility import (
    BMI_IMPLAUSIBLE,
    VITAL_IMPLAUSIBLE,
    WEIGHT_CHANGED,
    PreviousWeight,
    check_vital_signs,
    check_weight,
)
from ketacare.clinical.protocols import Protocol, WeightBasedDose, get_protocol
from ketacare.clinical.timing import (
    COMPLETED_TOO_EARLY,
    MORE_THAN_RATE_ALLOWS,
    check_infusion_complete,
    reading_near,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def iv_actual() -> Protocol:
    protocol = get_protocol("iv_induction_6x")
    assert isinstance(protocol.dose, WeightBasedDose)
    return dataclasses.replace(
        protocol, dose=dataclasses.replace(protocol.dose, weight_basis="actual")
    )


def test_a_heart_rate_of_38_raises_the_low_heart_rate_alarm() -> None:
    alarms = check_vitals(get_protocol("iv_induction_6x"), [], VitalReading(T0, heart_rate=38))
    assert [a.code for a in alarms] == [ALARM_HEART_RATE_LOW]
    assert "38" in alarms[0].message and "Pause" in alarms[0].action


def test_a_bp_of_78_over_40_raises_the_low_blood_pressure_alarm() -> None:
    reading = VitalReading(T0, systolic=78, diastolic=40)
    alarms = check_vitals(get_protocol("iv_induction_6x"), [], reading, pre_dose_systolic=120)
    assert [a.code for a in alarms] == [ALARM_BP_LOW]


def test_a_respiratory_rate_of_8_raises_the_alarm() -> None:
    alarms = check_vitals(
        get_protocol("esketamine_trd"), [], VitalReading(T0, respiratory_rate=8, spo2=95)
    )
    assert [a.code for a in alarms] == [ALARM_RESPIRATORY_RATE_LOW]


def test_the_pre_dose_check_needs_respiratory_rate_and_spo2_not_only_bp() -> None:
    check = check_pre_dose(
        get_protocol("iv_induction_6x"),
        VitalReading(T0, systolic=120, diastolic=80, heart_rate=70),
    )
    assert check.status == START_INCOMPLETE
    assert check.missing == ("respiratory_rate", "spo2")


def test_esketamine_discharge_at_0_minutes_is_refused_and_cannot_be_overridden() -> None:
    protocol = get_protocol("esketamine_trd")
    criteria = dict.fromkeys(protocol.monitoring.discharge_criteria, True)
    check = discharge_check(protocol, T0, T0, criteria)
    assert not check.may_discharge
    assert check.remaining_minutes == 120
    assert check.override_allowed is False


def test_the_rems_bp_at_40_minutes_is_never_a_5_minute_reading() -> None:
    readings = [VitalReading(minutes(5), systolic=150, diastolic=90)]
    assert reading_near(readings, minutes(40), 10) is None
    on_time = VitalReading(minutes(43), systolic=140, diastolic=85)
    assert reading_near([*readings, on_time], minutes(40), 10) == on_time


def test_a_100_ml_bag_at_150_ml_per_h_is_not_complete_after_2_minutes() -> None:
    monitoring = get_protocol("iv_induction_6x").monitoring
    result = check_infusion_complete(
        monitoring,
        started_at=T0,
        rate_ml_per_h=D(150),
        volume_ml=D(100),
        changes=[],
        stopped_at=minutes(2),
        volume_infused_ml=None,
    )
    assert (result.allowed, result.code) == (False, COMPLETED_TOO_EARLY)
    assert result.infused_by_rate_ml == D("5.0")
    said_100 = check_infusion_complete(
        monitoring,
        started_at=T0,
        rate_ml_per_h=D(150),
        volume_ml=D(100),
        changes=[],
        stopped_at=minutes(2),
        volume_infused_ml=D(100),
    )
    assert said_100.code == MORE_THAN_RATE_ALLOWS
    done = check_infusion_complete(
        monitoring,
        started_at=T0,
        rate_ml_per_h=D(150),
        volume_ml=D(100),
        changes=[],
        stopped_at=minutes(40),
        volume_infused_ml=None,
    )
    assert done.allowed


def test_at_45_kg_and_50_mg_per_ml_the_record_is_the_20_mg_that_0_4_ml_delivers() -> None:
    plan = iv_dose(
        protocol=iv_actual(),
        actual_weight_kg=45,
        concentration_mg_per_ml=50,
        container_volume_ml=10,
    )
    assert plan.calculated_dose_mg == D("22.5")
    assert plan.volume_ml == D("0.4")
    assert plan.dose_mg == D("20.00")
    assert DELIVERED_DIFFERS in [w.code for w in plan.warnings]
    assert not plan.may_proceed  # shown, and needs the prescriber's reason, before signing


def test_an_infusion_over_1_minute_is_a_hard_stop_whatever_the_reason() -> None:
    with pytest.raises(HardStop) as stop:
        iv_dose(
            protocol=iv_actual(),
            actual_weight_kg=70,
            concentration_mg_per_ml=1,
            container_volume_ml=50,
            duration_min=1,
            override_reason="the patient is in a hurry",
        )
    assert stop.value.code == INFUSION_BELOW_HARD_STOP


def test_an_infusion_of_30_minutes_needs_a_reason() -> None:
    plan = iv_dose(
        protocol=iv_actual(),
        actual_weight_kg=70,
        concentration_mg_per_ml=1,
        container_volume_ml=50,
        duration_min=30,
    )
    assert INFUSION_TOO_SHORT in [w.code for w in plan.warnings]


def test_176_typed_three_days_after_68_kg_is_challenged_with_the_pounds_reading() -> None:
    check = check_weight(
        value=176,
        unit="kg",
        on=date(2026, 3, 5),
        previous=PreviousWeight(D("68.0"), date(2026, 3, 2)),
    )
    assert [c.code for c in check.challenges] == [WEIGHT_CHANGED]
    assert "79.8 kg" in check.challenges[0].message  # 176 lb
    in_pounds = check_weight(
        value=150, unit="lb", on=date(2026, 3, 5), previous=PreviousWeight(D(68), date(2026, 3, 2))
    )
    assert (in_pounds.weight_kg, in_pounds.challenges) == (D("68.0"), ())


def test_165_kg_at_163_cm_is_challenged_at_intake() -> None:
    check = check_weight(value=165, unit="kg", on=date(2026, 3, 2), previous=None, height_cm=163)
    assert check.bmi_kg_per_m2 == D("62.1")
    assert [c.code for c in check.challenges] == [BMI_IMPLAUSIBLE]


def test_a_baseline_bp_of_300_over_200_is_challenged() -> None:
    challenges = check_vital_signs({"systolic": 300, "diastolic": 200})
    assert [(c.code, c.field) for c in challenges] == [
        (VITAL_IMPLAUSIBLE, "systolic"),
        (VITAL_IMPLAUSIBLE, "diastolic"),
    ]


@pytest.mark.parametrize("age", [23, 47])
def test_women_of_23_and_47_are_asked_for_a_pregnancy_test(age: int) -> None:
    assert pregnancy_test_required(sex="female", age_years=age)
    concerns = checklist_concerns(
        fasting_confirmed=True,
        escort_confirmed=True,
        pregnancy_test="not_required",
        pregnancy_test_required=True,
        medication_changes=False,
        medication_changes_note="",
        scale_alerts=[],
    )
    assert [c.code for c in concerns] == ["pregnancy_not_tested"]


def test_the_course_baseline_is_the_last_score_before_the_first_dose() -> None:
    # a pre-dose PHQ-9 at 08:50, the first infusion at 09:00, a portal answer at 09:20
    scores = [TimedScore(minutes(-10), 18), TimedScore(minutes(20), 9)]
    assert baseline_index(scores, T0) == 0
