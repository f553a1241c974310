"""Protocols as data, session schedule proposals and session checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.protocols import (
    COURSE_COMPLETE,
    OK,
    PROTOCOL_IDS,
    TOO_MANY_IN_WEEK,
    TOO_SOON,
    DeviceDose,
    FixedStepDose,
    WeightBasedDose,
    check_session,
    get_protocol,
    load_protocols,
    propose_schedule,
)

MON = date(2025, 3, 3)  # a Monday
WEEKDAYS = {0, 1, 2, 3, 4}
EVERY_DAY = set(range(7))


def day(offset: int) -> date:
    return MON + timedelta(days=offset)


def test_the_packaged_protocols_are_the_documented_ones() -> None:
    assert set(load_protocols()) == set(PROTOCOL_IDS)


@pytest.mark.parametrize("protocol_id", PROTOCOL_IDS)
def test_every_protocol_names_route_dose_schedule_monitoring_and_sources(protocol_id: str) -> None:
    protocol = get_protocol(protocol_id)
    assert protocol.version and protocol.route in {"iv", "im", "esketamine", "sublingual"}
    assert protocol.citation.source_ids and protocol.dose.citation.source_ids
    assert protocol.schedule.min_interval_days >= 1 and protocol.schedule.phases
    assert protocol.monitoring.observation_min >= 30
    assert protocol.monitoring.start_limits.block_systolic == 180


def test_protocol_dose_rules_match_the_reference() -> None:
    iv = get_protocol("iv_induction_6x").dose
    im = get_protocol("im_titration").dose
    home = get_protocol("sublingual_home").dose
    trd = get_protocol("esketamine_trd").dose
    assert isinstance(iv, WeightBasedDose) and (str(iv.mg_per_kg), iv.duration_min) == ("0.5", 40)
    assert isinstance(im, WeightBasedDose) and str(im.range_mg_per_kg[1]) == "0.5"
    assert isinstance(home, FixedStepDose)
    assert [home.start_mg, home.step_mg, home.hard_stop_above_mg] == [50, 25, 300]
    assert isinstance(trd, DeviceDose) and (trd.allowed_mg, trd.first_dose_mg) == ((56, 84), 56)


def test_esketamine_monitoring_follows_the_rems() -> None:
    monitoring = get_protocol("esketamine_trd").monitoring
    assert (monitoring.observation_min, monitoring.bp_checks_after_dose_min) == (120, (40,))
    assert "dissociation_resolved" in monitoring.discharge_criteria


def test_iv_monitoring_and_alarms_are_the_reference_policy_defaults() -> None:
    monitoring = get_protocol("iv_induction_6x").monitoring
    alarms = monitoring.alarms
    assert (monitoring.vitals_interval_min, monitoring.post_dose_vitals_interval_min) == (10, 15)
    assert (
        alarms.bp_confirmed_systolic,
        alarms.bp_confirmed_diastolic,
        alarms.bp_confirm_after_min,
    ) == (180, 110, 5)
    assert (alarms.bp_once_systolic, alarms.bp_once_diastolic) == (200, 120)
    assert (
        alarms.heart_rate_above,
        alarms.heart_rate_for_min,
        alarms.spo2_below,
        alarms.moaas_at_or_below,
    ) == (
        120,
        5,
        92,
        2,
    )
    assert alarms.citation.policy


def test_an_unknown_protocol_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="unknown protocol") as error:
        get_protocol("iv_induction_12x")
    assert error.value.field == "protocol_id"


# --- propose_schedule -----------------------------------------------------------------------


def test_iv_induction_is_six_infusions_three_a_week_over_12_days() -> None:
    # Murrough 2013: six infusions, Mon/Wed/Fri, over 12 days
    dates = propose_schedule(get_protocol("iv_induction_6x"), MON, WEEKDAYS)
    assert dates == [day(0), day(2), day(4), day(7), day(9), day(11)]


def test_iv_induction_with_every_day_open_still_keeps_two_days_apart_and_three_a_week() -> None:
    dates = propose_schedule(get_protocol("iv_induction_6x"), MON, EVERY_DAY)
    assert dates == [day(0), day(2), day(4), day(7), day(9), day(11)]


def test_esketamine_trd_is_twice_weekly_for_4_weeks_then_weekly_to_week_8() -> None:
    # SPRAVATO PI: weeks 1-4 twice weekly, weeks 5-8 once weekly; maintenance is not proposed
    dates = propose_schedule(get_protocol("esketamine_trd"), MON, WEEKDAYS)
    induction = [d for d in dates if (d - MON).days < 28]
    weekly = [d for d in dates if (d - MON).days >= 28]
    assert induction == [day(0), day(3), day(7), day(10), day(14), day(17), day(21), day(24)]
    # course weeks: day 29 (offset 28) is the first day of week 5, so it may hold week 5's session
    assert weekly == [day(28), day(35), day(42), day(49)]


def test_esketamine_day_29_is_the_first_session_of_week_5_not_too_many_in_a_week() -> None:
    # At the chair: sessions on days 22 and 25 (week 4), then day 29 was refused as "too many in a
    # week" by a rolling 7-day count. SPRAVATO PI §2 counts course weeks: day 29 opens week 5.
    protocol = get_protocol("esketamine_trd")
    past = [day(offset) for offset in (0, 3, 7, 10, 14, 17, 21, 24)]
    verdict = check_session(protocol, day(28), past)
    assert verdict.allowed, verdict.reason
    # but a second session inside week 5 is still too many
    second = check_session(protocol, day(32), [*past, day(28)])
    assert second.code == TOO_MANY_IN_WEEK
    assert "course week 5" in second.reason


def test_esketamine_suicidal_is_eight_doses_in_four_weeks() -> None:
    dates = propose_schedule(get_protocol("esketamine_suicidal"), MON, {0, 3})
    assert len(dates) == 8 and (dates[-1] - dates[0]).days < 28


def test_an_open_ended_protocol_needs_a_session_count() -> None:
    with pytest.raises(InvalidInput, match="open-ended") as error:
        propose_schedule(get_protocol("iv_booster"), MON, WEEKDAYS)
    assert error.value.field == "sessions"
    assert propose_schedule(get_protocol("iv_booster"), MON, {2}, sessions=3) == [
        day(2),
        day(9),
        day(16),
    ]


def test_proposals_continue_a_course_already_started() -> None:
    protocol = get_protocol("iv_induction_6x")
    dates = propose_schedule(protocol, day(7), WEEKDAYS, past_sessions=[day(0), day(2), day(4)])
    assert dates == [day(7), day(9), day(11)]


def test_a_clinic_may_propose_a_shorter_course_but_not_a_longer_one() -> None:
    protocol = get_protocol("sublingual_home")
    assert len(propose_schedule(protocol, MON, WEEKDAYS, sessions=6)) == 6
    with pytest.raises(InvalidInput, match="8 sessions"):
        propose_schedule(protocol, MON, WEEKDAYS, sessions=9)


@pytest.mark.parametrize("sessions", [0, -1, True])
def test_a_nonsense_session_count_is_rejected(sessions: int) -> None:
    with pytest.raises(InvalidInput):
        propose_schedule(get_protocol("iv_booster"), MON, WEEKDAYS, sessions=sessions)


@pytest.mark.parametrize("open_weekdays", [set(), {7}, {-1, 2}])
def test_open_weekdays_must_be_0_to_6(open_weekdays: set[int]) -> None:
    with pytest.raises(InvalidInput) as error:
        propose_schedule(get_protocol("iv_induction_6x"), MON, open_weekdays)
    assert error.value.field == "open_weekdays"


# --- check_session --------------------------------------------------------------------------


def test_a_session_the_day_after_an_iv_infusion_is_too_soon() -> None:
    # given an infusion on Monday; when proposing Tuesday
    check = check_session(get_protocol("iv_induction_6x"), day(1), [day(0)])
    # then
    assert (check.allowed, check.code) == (False, TOO_SOON)
    assert "next allowed from 2025-03-05" in check.reason


def test_a_session_two_days_after_is_allowed() -> None:
    check = check_session(get_protocol("iv_induction_6x"), day(2), [day(0)])
    assert (check.allowed, check.code) == (True, OK)


def test_a_booked_later_session_also_counts_for_spacing() -> None:
    check = check_session(get_protocol("iv_induction_6x"), day(3), [day(0), day(4)])
    assert check.code == TOO_SOON and "next allowed" not in check.reason


def test_a_fourth_infusion_in_seven_days_is_too_many() -> None:
    check = check_session(get_protocol("iv_induction_6x"), day(6), [day(0), day(2), day(4)])
    assert (check.allowed, check.code) == (False, TOO_MANY_IN_WEEK)


def test_a_seventh_infusion_of_a_six_infusion_course_is_refused() -> None:
    past = [day(0), day(2), day(4), day(7), day(9), day(11)]
    check = check_session(get_protocol("iv_induction_6x"), day(14), past)
    assert (check.allowed, check.code) == (False, COURSE_COMPLETE)


def test_esketamine_twice_in_week_5_is_too_many() -> None:
    past = [day(0), day(3), day(7), day(10), day(14), day(17), day(21), day(24), day(31)]
    check = check_session(get_protocol("esketamine_trd"), day(34), past)
    assert check.code == TOO_MANY_IN_WEEK and "week 5" in check.reason


def test_esketamine_maintenance_goes_on_after_week_8() -> None:
    check = check_session(get_protocol("esketamine_trd"), day(70), [day(0), day(56)])
    assert check.allowed


def test_esketamine_suicidal_schedule_ends_after_week_4() -> None:
    check = check_session(get_protocol("esketamine_suicidal"), day(28), [day(0), day(3)])
    assert check.code == COURSE_COMPLETE and "week 4" in check.reason


def test_im_sessions_are_at_least_a_week_apart() -> None:
    # Loo 2016
    assert check_session(get_protocol("im_titration"), day(6), [day(0)]).code == TOO_SOON
    assert check_session(get_protocol("im_titration"), day(7), [day(0)]).allowed


def test_datetimes_are_compared_by_their_dates() -> None:
    at = datetime(2025, 3, 3, 17, 0, tzinfo=UTC)
    check = check_session(get_protocol("iv_induction_6x"), at + timedelta(days=2), [at])
    assert check.allowed


def test_a_session_that_is_not_a_date_is_rejected() -> None:
    with pytest.raises(InvalidInput) as error:
        check_session(get_protocol("iv_induction_6x"), day(2), ["2025-03-03"])  # type: ignore[list-item]
    assert error.value.field == "past_sessions[0]"
