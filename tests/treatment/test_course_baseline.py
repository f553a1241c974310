"""A course's baseline score is the last one before its first dose (SPRAVATO PI; reference §5).

At the chair: a course's baseline PHQ-9 was a portal answer given after the first infusion had
started (the old rule took the last score on or before the course's first day).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from ketacare.followup.selectors import choose_baseline, course_outcome, first_doses
from ketacare.kernel import clock
from ketacare.outcomes.models import ResponseSource, ScaleResponse
from ketacare.outcomes.services import scale_response_record
from tests.treatment.factories import check_in, fresh, order, pre_check, start, verify, walk_to

pytestmark = pytest.mark.django_db

PHQ9_SEVERE = [3, 3, 2, 2, 2, 2, 2, 2, 0]  # 18
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 1, 1, 0]  # 8


def test_the_baseline_is_the_pre_dose_score_not_a_portal_answer_after_the_first_infusion(
    world, team
):
    # given the first IV session: PHQ-9 18 at the pre-dose check, the infusion starts, and a
    # portal PHQ-9 of 8 arrives 20 minutes later, the same day
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, phq9_answers=PHQ9_SEVERE)
    clock.travel(timedelta(minutes=10))
    order(team, session)
    verify(team, session)
    start(team, session)
    started = fresh(session).dosing_started_at
    clock.travel(timedelta(minutes=20))
    portal = scale_response_record(
        actor=None,
        patient=world.patient_a,
        instrument_id="phq9",
        answers=PHQ9_MILD,
        source=ResponseSource.PORTAL,
        recorded_at=clock.now(),
    ).response
    course = fresh(session).course
    series = list(
        ScaleResponse.objects.filter(patient=world.patient_a, instrument_id="phq9").order_by(
            "recorded_at", "id"
        )
    )
    tz = ZoneInfo(world.clinic_a.time_zone)
    # when the course's baseline is chosen
    doses = first_doses([course])
    assert doses[course.pk] == started
    baseline = choose_baseline(series, course.started_on, tz, doses[course.pk])
    # then it is the last score before the first dose (18), never the portal answer (8)
    assert baseline is not None and baseline.total == 18
    assert baseline.pk != portal.pk
    # and the old rule (no first dose known) would have taken the portal answer
    assert choose_baseline(series, course.started_on, tz).pk == portal.pk
    pair = course_outcome(course, series, tz, clock.now(), doses[course.pk])
    assert pair is not None and pair[0].total == 18 and pair[1].total == 8


def test_with_no_score_before_the_first_dose_there_is_no_baseline(world, team):
    session = check_in(team, world.patient_a, world.staff)
    walk_to(team, session, "dosing")
    clock.travel(timedelta(minutes=5))
    scale_response_record(
        actor=None,
        patient=world.patient_a,
        instrument_id="phq9",
        answers=PHQ9_MILD,
        source=ResponseSource.PORTAL,
        recorded_at=clock.now(),
    )
    series = list(
        ScaleResponse.objects.filter(patient=world.patient_a, instrument_id="phq9").order_by(
            "recorded_at", "id"
        )
    )
    course = fresh(session).course
    tz = ZoneInfo(world.clinic_a.time_zone)
    # the pre-dose PHQ-9 of the walk's check is recorded at check time, before the dose
    before = [r for r in series if r.recorded_at < fresh(session).dosing_started_at]
    expected = before[-1] if before else None
    assert choose_baseline(series, course.started_on, tz, first_doses([course])[course.pk]) == (
        expected
    )
