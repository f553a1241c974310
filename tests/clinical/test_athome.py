"""The at-home programme's safety loop: gate, tracker, release, refill and dose steps (§7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from ketacare.clinical.alerts import urgency
from ketacare.clinical.athome import (
    HOME_SCREENING_NOT_ELIGIBLE,
    CheckinState,
    GateFacts,
    RefillFacts,
    ReleaseFacts,
    assess_tracker,
    check_dose_gate,
    check_dose_step,
    check_enrolment,
    check_refill,
    check_release,
    check_sitter_checkin,
    gate_alert_codes,
    load_home_rules,
    sitter_checkin_state,
)
from ketacare.clinical.protocols import FixedStepDose, get_protocol
from ketacare.clinical.readiness import ScreeningFacts

PASSING_GATE = GateFacts(
    sitter_attested=True,
    systolic=128,
    diastolic=82,
    heart_rate=76,
    fasting=True,
    no_alcohol_or_substances=True,
    safe_place=True,
)


def gate_codes(**change: object) -> list[str]:
    return [b.code for b in check_dose_gate(replace(PASSING_GATE, **change))]  # type: ignore[arg-type]


def test_a_gate_with_everything_in_order_lets_the_dose_go_ahead() -> None:
    assert gate_codes() == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"sitter_attested": False}, "home_sitter_not_attested"),
        ({"systolic": None}, "home_vitals_missing"),
        ({"heart_rate": None}, "home_vitals_missing"),
        ({"systolic": 400}, "home_vitals_implausible"),
        ({"systolic": 80, "diastolic": 90}, "home_vitals_implausible"),
        # policy default (Choose Ketamine agreement): no dose above 160/90 or a heart rate over 100
        ({"systolic": 172, "diastolic": 98}, "home_bp_above_limit"),
        ({"systolic": 161}, "home_bp_above_limit"),
        ({"diastolic": 91}, "home_bp_above_limit"),
        ({"heart_rate": 101}, "home_heart_rate_above_limit"),
        ({"fasting": None}, "home_check_unanswered"),
        ({"fasting": False}, "home_not_fasting"),
        ({"no_alcohol_or_substances": False}, "home_alcohol_or_substances"),
        ({"no_alcohol_or_substances": None}, "home_check_unanswered"),
        ({"safe_place": False}, "home_place_not_safe"),
        ({"safe_place": None}, "home_check_unanswered"),
    ],
)
def test_each_gate_refusal_has_its_code(change: dict[str, object], code: str) -> None:
    assert gate_codes(**change) == [code]


@pytest.mark.parametrize(
    ("systolic", "diastolic", "heart_rate"), [(160, 90, 100), (159, 89, 99), (110, 70, 55)]
)
def test_readings_at_the_limits_pass(systolic: int, diastolic: int, heart_rate: int) -> None:
    assert gate_codes(systolic=systolic, diastolic=diastolic, heart_rate=heart_rate) == []


def test_a_blood_pressure_of_172_over_98_says_not_today_and_opens_an_alert() -> None:
    blockers = check_dose_gate(replace(PASSING_GATE, systolic=172, diastolic=98))
    assert "172/98" in blockers[0].reason
    assert "clinic will call" in blockers[0].reason
    assert gate_alert_codes(blockers) == ("home_bp_above_limit",)
    assert urgency("home_bp_above_limit") == "same_day"


def test_a_refusal_that_is_not_about_vital_signs_opens_no_alert() -> None:
    assert gate_alert_codes(check_dose_gate(replace(PASSING_GATE, fasting=False))) == ()


TRACKER_QUIET = {
    "dissociation": 2,
    "nausea": 1,
    "side_effects": 0,
    "mood": 1,
    "adverse_event": 0,
    "urinary_symptoms": 0,
    "use_outside_plan": 0,
    "sitter_stayed": 1,
}


def test_a_quiet_tracker_is_complete_and_raises_nothing() -> None:
    assessment = assess_tracker(TRACKER_QUIET)
    assert assessment.complete
    assert assessment.red_flags == ()


@pytest.mark.parametrize(
    ("item", "value", "code"),
    [
        ("adverse_event", 1, "home_adverse_event"),
        ("use_outside_plan", 1, "home_use_outside_plan"),
        ("urinary_symptoms", 1, "home_urinary_symptoms"),
        ("dissociation", 3, "home_severe_dissociation"),
        ("nausea", 3, "home_severe_nausea"),
        ("side_effects", 3, "home_severe_side_effects"),
        ("mood", -2, "home_mood_much_worse"),
        ("sitter_stayed", 0, "home_sitter_left"),
    ],
)
def test_each_red_flag_is_raised_by_its_answer(item: str, value: int, code: str) -> None:
    flags = assess_tracker({**TRACKER_QUIET, item: value}).red_flags
    assert [f.code for f in flags] == [code]
    assert urgency(code) in {"immediate", "same_day", "review"}


@pytest.mark.parametrize(
    ("item", "value"), [("mood", None), ("mood", 3), ("nausea", -1), ("adverse_event", True)]
)
def test_a_missing_or_off_scale_answer_leaves_the_tracker_incomplete(
    item: str, value: object
) -> None:
    assessment = assess_tracker({**TRACKER_QUIET, item: value})  # type: ignore[dict-item]
    assert not assessment.complete
    assert assessment.missing == (item,)


def test_an_empty_tracker_is_incomplete_and_raises_no_flag_from_absent_answers() -> None:
    assessment = assess_tracker({})
    assert len(assessment.missing) == len(load_home_rules().items)
    assert assessment.red_flags == ()


RELEASED = ReleaseFacts(
    today=date(2026, 12, 8),
    doses_taken=1,
    doses_planned=8,
    last_dose_on=date(2026, 12, 1),
    min_interval_days=7,
    trackers_missing=0,
    open_red_flags=0,
    supply_left=7,
    units_per_dose=1,
)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"trackers_missing": 1}, "home_tracker_missing"),
        ({"open_red_flags": 1}, "home_red_flag_open"),
        ({"doses_taken": 8}, "home_plan_complete"),
        ({"doses_planned": None}, "home_plan_complete"),
        ({"today": date(2026, 12, 7)}, "home_too_soon"),
        ({"supply_left": 0}, "home_supply_short"),
        ({"supply_left": None}, "home_supply_short"),
        ({"units_per_dose": 2, "supply_left": 1}, "home_supply_short"),
    ],
)
def test_the_next_dose_is_held_for_each_reason(change: dict[str, object], code: str) -> None:
    assert [b.code for b in check_release(replace(RELEASED, **change))] == [code]  # type: ignore[arg-type]


def test_the_next_dose_is_released_when_the_tracker_is_in_and_the_interval_has_passed() -> None:
    assert check_release(RELEASED) == ()
    assert check_release(replace(RELEASED, doses_taken=0, last_dose_on=None)) == ()


REFILL_OK = RefillFacts(
    today=date(2027, 1, 5),
    programme_started_on=date(2026, 12, 1),
    doses_taken=2,
    review_on=date(2026, 12, 31),
    dispensed=4,
    taken=2,
    reported_lost=0,
    counted=2,
    refills_authorised=1,
    refills_used=0,
)


def refill_codes(**change: object) -> list[str]:
    return [b.code for b in check_refill(replace(REFILL_OK, **change))]  # type: ignore[arg-type]


def test_a_refill_after_two_doses_a_30_day_review_and_reconciled_counts_is_released() -> None:
    assert refill_codes() == []
    assert refill_codes(reported_lost=1, counted=1) == []  # a reported loss still reconciles


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"refills_used": 1}, "refill_none_authorised"),
        ({"doses_taken": 1}, "refill_too_few_doses"),
        ({"review_on": None}, "refill_review_missing"),
        ({"review_on": date(2026, 12, 30)}, "refill_review_missing"),  # before day 30
        ({"review_on": date(2027, 1, 6)}, "refill_review_missing"),  # in the future
        ({"counted": None}, "refill_count_missing"),
        ({"counted": 1}, "refill_unreconciled"),  # one dose unaccounted for
        ({"counted": 3}, "refill_unreconciled"),
    ],
)
def test_each_refill_refusal_has_its_code(change: dict[str, object], code: str) -> None:
    assert refill_codes(**change) == [code]


def test_a_refill_before_the_follow_up_names_the_review_date_and_the_policy() -> None:
    blockers = check_refill(replace(REFILL_OK, review_on=None))
    assert "2026-12-31" in blockers[0].reason
    assert "policy" in blockers[0].reason


def test_one_dose_unaccounted_for_is_named() -> None:
    blockers = check_refill(replace(REFILL_OK, counted=1))
    assert "1 unaccounted for" in blockers[0].reason


HOME_DOSE = get_protocol("sublingual_home").dose


@pytest.mark.parametrize(
    ("current", "new", "code"),
    [
        (50, 75, None),
        (75, 50, None),
        (50, 100, "step_too_large"),
        (50, 60, "step_not_on_step"),
        (300, 325, "step_out_of_range"),
        (50, 0, "step_out_of_range"),
    ],
)
def test_dose_steps_stay_inside_the_protocol(current: int, new: int, code: str | None) -> None:
    assert isinstance(HOME_DOSE, FixedStepDose)
    found = check_dose_step(HOME_DOSE, current_mg=Decimal(current), new_mg=Decimal(new))
    assert [b.code for b in found] == ([code] if code else [])


def test_every_number_is_labelled_clinic_policy() -> None:
    rules = load_home_rules()
    assert rules.gate.citation.policy
    assert rules.refill_citation.policy
    assert all(flag.citation.policy for flag in rules.red_flags)
    assert (rules.gate.max_systolic, rules.gate.max_diastolic, rules.gate.max_heart_rate) == (
        160,
        90,
        100,
    )
    assert (rules.refill_min_doses, rules.refill_review_after_days) == (2, 30)


# --- enrolment ------------------------------------------------------------------------------


def _screening(**change: object) -> ScreeningFacts:
    values: dict[str, object] = {
        "id": 7, "status": "eligible", "signed": True, "has_sign_reason": False,
        "cosigned": False, "superseded": False, "changed_facts": (), "screened_for_trd": False,
    }  # fmt: skip
    values.update(change)
    return ScreeningFacts(**values)  # type: ignore[arg-type]


def test_an_eligible_signed_screening_admits_to_the_home_programme() -> None:
    assert check_enrolment(_screening(), route="sublingual") == ()


def test_no_screening_holds_enrolment_naming_the_route() -> None:
    (blocker,) = check_enrolment(None, route="sublingual")
    assert blocker.code == "screening_missing" and "sublingual" in blocker.reason


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"signed": False}, "screening_unsigned"),
        ({"superseded": True}, "screening_superseded"),
        ({"changed_facts": ("weight_kg",)}, "screening_out_of_date"),
        ({"status": "maybe"}, "screening_status_unknown"),
        ({"status": "needs review"}, "screening_needs_reason"),
    ],
)
def test_what_holds_a_course_in_the_clinic_holds_enrolment(
    change: dict[str, object], code: str
) -> None:
    codes = [b.code for b in check_enrolment(_screening(**change), route="sublingual")]
    assert codes[0] == code
    assert HOME_SCREENING_NOT_ELIGIBLE not in codes


@pytest.mark.parametrize(
    "change",
    [
        {"status": "needs review", "has_sign_reason": True},
        {"status": "ineligible", "has_sign_reason": True, "cosigned": True},
    ],
)
def test_a_screening_signed_over_its_findings_is_not_enough_at_home(
    change: dict[str, object],
) -> None:
    (blocker,) = check_enrolment(_screening(**change), route="sublingual")
    assert blocker.code == HOME_SCREENING_NOT_ELIGIBLE and blocker.field == "screening"


def test_a_clinic_that_relaxes_the_rule_admits_a_reviewed_screening() -> None:
    rules = load_home_rules()
    relaxed = replace(rules, enrolment=replace(rules.enrolment, screening_must_be_eligible=False))
    reviewed = _screening(status="needs review", has_sign_reason=True)
    assert check_enrolment(reviewed, route="sublingual", rules=relaxed) == ()


# --- the sitter's check-ins -----------------------------------------------------------------


def test_the_first_check_in_falls_due_an_interval_after_the_dose_then_after_each() -> None:
    from datetime import UTC, datetime, timedelta

    taken = datetime(2026, 12, 1, 15, tzinfo=UTC)
    ends = taken + timedelta(minutes=60)
    first = sitter_checkin_state(taken_at=taken, session_ends_at=ends, checkins=(), now=taken)
    assert first == CheckinState(taken + timedelta(minutes=20), False)
    late = sitter_checkin_state(
        taken_at=taken, session_ends_at=ends, checkins=(), now=taken + timedelta(minutes=21)
    )
    assert late.overdue
    after = sitter_checkin_state(
        taken_at=taken, session_ends_at=ends, checkins=(taken + timedelta(minutes=45),),
        now=taken + timedelta(minutes=46),
    )  # fmt: skip
    assert after == CheckinState(None, False)  # the next would fall after the session


@pytest.mark.parametrize(
    ("in_session", "well", "codes", "alert"),
    [
        (False, True, ["sitter_checkin_not_in_session"], None),
        (True, None, ["sitter_checkin_unanswered"], None),
        (True, True, [], None),
        (True, False, [], "home_sitter_concern"),
    ],
)
def test_a_check_in_is_refused_recorded_or_raises_the_worry(
    in_session: bool, well: bool | None, codes: list[str], alert: str | None
) -> None:
    blockers, code = check_sitter_checkin(in_session=in_session, well=well)
    assert [b.code for b in blockers] == codes and code == alert


def test_a_sitters_worry_is_an_immediate_alert() -> None:
    assert urgency("home_sitter_concern") == "immediate"
