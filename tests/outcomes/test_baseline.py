"""A course's baseline is the last score before its first dose (the core's `baseline_index`).

A portal answer given after the first infusion started was once taken as the baseline, because
it fell on the course's first day. Every place that shows or stores a baseline now asks the core.
"""

from datetime import timedelta

import pytest

from ketacare.followup.selectors import patient_outcomes
from ketacare.followup.summaries import outcome_summaries_catch_up
from ketacare.kernel import clock
from ketacare.outcomes.models import CourseOutcome, ResponseSource, ScaleResponse
from ketacare.outcomes.services import scale_response_record
from tests.factories import PatientFactory
from tests.outcomes.factories import phq9_answers
from tests.treatment.factories import PHQ9_MILD, Team, check_in, walk_to

pytestmark = pytest.mark.django_db


def test_a_portal_answer_after_the_first_infusion_started_is_not_the_baseline(world, session_clock):
    # given a first session whose pre-dose PHQ-9 was recorded, then the infusion started
    team = Team.of(world.clinic_a, world.staff)
    patient = PatientFactory(clinic=world.clinic_a)
    session = walk_to(team, check_in(team, patient, world.staff), "dosing")
    pre_dose = ScaleResponse.objects.get(patient=patient, instrument_id="phq9")
    assert pre_dose.recorded_at < session.dosing_started_at
    # when the patient answers a PHQ-9 on the portal ten minutes into the infusion
    session_clock.travel(timedelta(minutes=10))
    during = scale_response_record(
        actor=None,
        patient=patient,
        instrument_id="phq9",
        answers=phq9_answers(3, item9=0),
        source=ResponseSource.PORTAL,
        recorded_at=clock.now(),
    ).response
    # then the chart's trajectory keeps the pre-dose score as the baseline
    outcomes = patient_outcomes(actor=team.nurse, patient_id=patient.pk)
    [phq9] = [t for t in outcomes.trajectories if t.instrument.id == "phq9"]
    assert phq9.baseline == pre_dose
    assert phq9.baseline != during
    # and the stored course outcome measures from the pre-dose score too
    outcome_summaries_catch_up(clinic=world.clinic_a)
    stored = CourseOutcome.objects.get(course=session.course, instrument_id="phq9")
    assert stored.baseline_total == sum(PHQ9_MILD) == pre_dose.total
    assert stored.end_total == during.total


def test_before_any_dose_the_latest_score_is_the_baseline(world):
    # given a patient with two scores and no course yet
    patient = PatientFactory(clinic=world.clinic_a)
    team = Team.of(world.clinic_a, world.staff)
    for total, days_ago in ((18, 14), (15, 2)):
        scale_response_record(
            actor=None,
            patient=patient,
            instrument_id="phq9",
            answers=phq9_answers(total, item9=0),
            source=ResponseSource.PORTAL,
            recorded_at=clock.now() - timedelta(days=days_ago),
        )
    # when the outcomes are read
    outcomes = patient_outcomes(actor=team.nurse, patient_id=patient.pk)
    [phq9] = [t for t in outcomes.trajectories if t.instrument.id == "phq9"]
    # then the baseline is the latest so far, and there is no outcome to classify yet
    assert phq9.baseline is not None and phq9.baseline.total == 15
    assert phq9.outcome is None
