"""Start clearance over frozen facts: checklist, pre-dose vitals and prescribers' decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.clearance import (
    ClearanceFacts,
    Concern,
    DecisionFact,
    age_on,
    checklist_concerns,
    pregnancy_test_required,
    start_clearance,
)
from ketacare.clinical.monitoring import VitalReading
from ketacare.clinical.profiles import tighten_alarms
from ketacare.clinical.protocols import get_protocol

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IV = get_protocol("iv_induction_6x")


def vitals(**changes: int) -> VitalReading:
    values = {"systolic": 120, "diastolic": 80, "heart_rate": 70, "respiratory_rate": 14}
    values["spo2"] = 98
    values.update(changes)
    return VitalReading(T0, **values)


def facts(
    reading: VitalReading | None = None,
    checklist: tuple[Concern, ...] = (),
    decisions: tuple[DecisionFact, ...] = (),
    reading_id: int | None = 11,
) -> ClearanceFacts:
    return ClearanceFacts(
        pre_check_id=5,
        checklist=checklist,
        reading_id=reading_id,
        reading=reading,
        decisions=decisions,
    )


def decision(reading_id: int | None = 11, *, proceed: bool = True, minute: int = 0) -> DecisionFact:
    return DecisionFact(
        id=minute + 1,
        pre_check_id=5,
        reading_id=reading_id,
        proceed=proceed,
        reason="reviewed",
        decided_at=T0 + timedelta(minutes=minute),
    )


def test_nothing_starts_before_the_pre_dose_check() -> None:
    clearance = start_clearance(IV, ClearanceFacts(None, (), None, None))
    assert (clearance.may_start, clearance.needs_decision) == (False, False)


def test_checks_within_limits_clear_the_start() -> None:
    clearance = start_clearance(IV, facts(vitals()))
    assert clearance.may_start and clearance.vitals_acceptable


def test_no_vital_signs_blocks() -> None:
    clearance = start_clearance(IV, facts(None, reading_id=None))
    assert [c.code for c in clearance.blocking] == ["no_blood_pressure"]
    assert not clearance.vitals_acceptable


def test_missing_spo2_blocks_and_no_decision_lifts_it() -> None:
    clearance = start_clearance(IV, facts(VitalReading(T0, systolic=120, diastolic=80)))
    assert clearance.blocking[0].code == "vitals_incomplete"
    assert "SpO2" in clearance.reason


def test_bp_at_the_block_limit_blocks() -> None:
    clearance = start_clearance(IV, facts(vitals(systolic=185), decisions=(decision(),)))
    assert [c.code for c in clearance.blocking] == ["bp_blocked"]


@pytest.mark.parametrize(
    "changes",
    [
        {"systolic": 150},
        {"heart_rate": 45},
        {"heart_rate": 130},
        {"respiratory_rate": 8},
        {"spo2": 90},
        {"systolic": 85, "diastolic": 50},
    ],
)
def test_a_vital_at_an_alarm_level_before_dosing_needs_a_prescriber(
    changes: dict[str, int],
) -> None:
    clearance = start_clearance(IV, facts(vitals(**changes)))
    assert (clearance.may_start, clearance.needs_decision) == (False, True)
    assert clearance.concerns[0].code == "bp_recheck"
    decided = start_clearance(IV, facts(vitals(**changes), decisions=(decision(),)))
    assert decided.may_start and decided.decision is not None


def test_a_decision_on_an_earlier_reading_does_not_cover_a_new_one_outside_limits() -> None:
    clearance = start_clearance(IV, facts(vitals(systolic=150), decisions=(decision(10),)))
    assert clearance.needs_decision


def test_the_latest_decision_counts_and_do_not_dose_holds() -> None:
    decisions = (decision(minute=0), decision(proceed=False, minute=5))
    clearance = start_clearance(IV, facts(vitals(systolic=150), decisions=decisions))
    assert clearance.needs_decision and clearance.decision is not None
    other_check = DecisionFact(9, 4, 11, True, "old check", T0)
    assert start_clearance(IV, facts(vitals(systolic=150), decisions=(other_check,))).needs_decision


def test_checklist_findings_need_a_decision_and_a_positive_test_blocks() -> None:
    concern = Concern("not_fasting", "Fasting not confirmed.", blocking=False)
    clearance = start_clearance(IV, facts(vitals(), checklist=(concern,)))
    assert clearance.needs_decision
    assert start_clearance(IV, facts(vitals(), (concern,), (decision(None),))).may_start
    positive = Concern("pregnancy_positive", "positive", blocking=True)
    assert start_clearance(IV, facts(vitals(), checklist=(positive,))).blocking


def test_a_clinic_may_tighten_the_alarm_used_before_dosing() -> None:
    tighter = tighten_alarms(IV.monitoring.alarms, {"heart_rate_below": 55})
    loose = ClearanceFacts(5, (), 11, vitals(heart_rate=52), (), tighter)
    assert start_clearance(IV, loose).needs_decision
    assert start_clearance(IV, facts(vitals(heart_rate=52))).may_start


def test_checklist_concerns_name_each_finding() -> None:
    concerns = checklist_concerns(
        fasting_confirmed=False,
        escort_confirmed=False,
        pregnancy_test="positive",
        pregnancy_test_required=True,
        medication_changes=True,
        medication_changes_note="started lorazepam",
        scale_alerts=[("phq9", ["suicidality"]), ("cssrs_screen", ["cssrs_high", "other"])],
    )
    assert [c.code for c in concerns] == [
        "pregnancy_positive",
        "not_fasting",
        "no_escort",
        "medication_changes",
        "suicidality",
        "cssrs_high",
    ]
    assert concerns[0].as_json()["blocking"] is True


def test_not_required_for_someone_who_cannot_be_pregnant_is_no_concern() -> None:
    concerns = checklist_concerns(
        fasting_confirmed=True,
        escort_confirmed=True,
        pregnancy_test="not_required",
        pregnancy_test_required=False,
        medication_changes=False,
        medication_changes_note="",
        scale_alerts=[],
    )
    assert concerns == []


def test_an_unknown_pregnancy_result_is_invalid() -> None:
    with pytest.raises(InvalidInput) as error:
        checklist_concerns(
            fasting_confirmed=True,
            escort_confirmed=True,
            pregnancy_test="maybe",
            pregnancy_test_required=True,
            medication_changes=False,
            medication_changes_note="",
            scale_alerts=[],
        )
    assert error.value.field == "pregnancy_test"


@pytest.mark.parametrize(
    ("sex", "age", "required"),
    [
        ("female", 23, True),
        ("female", 47, True),
        ("female", 11, False),
        ("female", 56, False),
        ("male", 30, False),
        (None, 30, True),
        ("other", 30, True),
        ("female", None, True),
    ],
)
def test_pregnancy_testing_follows_sex_and_age(
    sex: str | None, age: int | None, required: bool
) -> None:
    assert pregnancy_test_required(sex=sex, age_years=age) is required


def test_age_on_a_day_counts_whole_years() -> None:
    assert age_on(date(2000, 3, 2), date(2026, 3, 1)) == 25
    assert age_on(date(2000, 3, 2), date(2026, 3, 2)) == 26
    assert age_on(None, date(2026, 3, 2)) is None
