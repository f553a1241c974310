"""Outcome summaries kept as data agree with recomputing the whole clinic, as scores arrive."""

import statistics
from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketacare.accounts.models import Clinic
from ketacare.clinical.outcomes import REMISSION, RESPONSE, classify
from ketacare.followup.summaries import (
    COURSE_MARKER,
    _booster_candidates,
    _scores_by_patient,
    course_outcome,
    first_dose_of,
    first_doses,
    histogram_median,
    outcome_summaries_catch_up,
    outcome_summaries_catch_up_all,
)
from ketacare.outcomes.models import BoosterSignal, OutcomeTally, ScaleResponse
from ketacare.scheduling.models import Course
from ketacare.synth.network import NetworkSpec, build_network

pytestmark = pytest.mark.django_db(transaction=True)


def _recomputed(clinic):
    """What the dashboard used to compute per request: every course and score of the clinic."""
    tz = ZoneInfo(clinic.time_zone)
    scores = _scores_by_patient(clinic.pk, ["phq9"])
    counts, rows = defaultdict(int), defaultdict(list)
    courses = list(Course.objects.filter(clinic=clinic).order_by("started_on", "id"))
    doses = first_doses(clinic.pk, [c.pk for c in courses])
    for course in courses:
        counts[course.protocol_id] += 1
        pair = course_outcome(
            course,
            scores.get((course.patient_id, "phq9"), []),
            first_dose_of(course, doses, tz),
            timezone.now(),
        )
        if pair:
            baseline, end = pair
            rows[course.protocol_id].append(
                (end.total - baseline.total, classify("phq9", baseline.total, end.total))
            )
    table = {
        protocol: (
            counts[protocol],
            len(rows[protocol]),
            sum(1 for _, o in rows[protocol] if o in (RESPONSE, REMISSION)),
            sum(1 for _, o in rows[protocol] if o == REMISSION),
            statistics.median(c for c, _ in rows[protocol]) if rows[protocol] else None,
        )
        for protocol in counts
    }
    boosters = {c.patient.pk for c in _booster_candidates(clinic_id=clinic.pk, tz=tz)}
    return table, boosters


def _stored(clinic):
    tallies = {
        (t.protocol_id, t.instrument_id): t for t in OutcomeTally.objects.filter(clinic=clinic)
    }
    table = {}
    for (protocol, instrument), counted in tallies.items():
        if instrument != COURSE_MARKER or not counted.courses:
            continue
        measured = tallies.get((protocol, "phq9"))
        table[protocol] = (
            counted.courses,
            measured.measured if measured else 0,
            measured.responders if measured else 0,
            measured.remitters if measured else 0,
            histogram_median(measured.changes) if measured and measured.measured else None,
        )
    boosters = set(BoosterSignal.objects.filter(clinic=clinic).values_list("patient_id", flat=True))
    return table, boosters


def test_stored_summaries_match_recomputing_the_clinic_and_follow_new_scores():
    # given a synthetic network whose summaries were built as it loaded
    build_network(
        NetworkSpec(patients=150, clinics=1, seed=3, today=date(2026, 6, 1), audit_per_patient=1),
        progress=lambda line: None,
    )
    clinic = Clinic.objects.get(slug="synth-1")
    assert _stored(clinic) == _recomputed(clinic)
    assert BoosterSignal.objects.filter(clinic=clinic).exists()
    # when a relapsed patient scores well again, and another's last course gets a bad score
    signal = BoosterSignal.objects.filter(clinic=clinic).first()
    later = timezone.now()
    for days in (0, 1):
        ScaleResponse.objects.create(
            clinic=clinic, patient_id=signal.patient_id, instrument_id="phq9",
            answers=[0] * 9, total=0, band="minimal", source="staff",
            recorded_at=later + timezone.timedelta(days=days),
        )  # fmt: skip
    # then catching up changes only what changed, and agrees with recomputing everything again
    assert outcome_summaries_catch_up(clinic=clinic) == 1
    assert _stored(clinic) == _recomputed(clinic)
    assert outcome_summaries_catch_up(clinic=clinic) == 0  # nothing new: nothing recomputed


def test_the_worker_rereads_an_overlap_without_counting_anything_twice():
    build_network(
        NetworkSpec(patients=40, clinics=1, seed=5, today=date(2026, 6, 1), audit_per_patient=1),
        progress=lambda line: None,
    )
    clinic = Clinic.objects.get(slug="synth-1")
    before = _stored(clinic)
    assert outcome_summaries_catch_up_all(overlap=True) > 0
    assert _stored(clinic) == before == _recomputed(clinic)


@pytest.mark.parametrize(
    "changes",
    [[], [3], [-4, 2], [-14, -14, -6, 0, 5], [-2, -2, -2, 7], list(range(-20, 9, 3))],
)
def test_the_median_from_the_histogram_is_the_median_of_the_changes(changes):
    histogram = defaultdict(int)
    for change in changes:
        histogram[str(change)] += 1
    expected = statistics.median(changes) if changes else None
    assert histogram_median(dict(histogram)) == expected
