"""The scheduling demo: chairs, hours and the stage plan's courses; idempotent; skips gaps."""

import random

import pytest
from django.utils import timezone

from ketacare.accounts.roles import Role
from ketacare.scheduling import demo
from ketacare.scheduling.models import Appointment, Chair, ClinicSchedule, Course
from ketacare.scheduling.selectors import clinic_zone, local_date
from tests.factories import PatientFactory
from tests.scheduling.factories import ready_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic_patients(world):
    """Fifteen demo-like patients (N00001...); the staged ones screened and consented."""
    patients = [PatientFactory(clinic=world.clinic_a, mrn=f"N{n:05d}") for n in range(1, 16)]
    for position in (7, 8, 9, 10, 11, 13, 15):
        ready_for(patients[position - 1], world.staff)
    ready_for(patients[11], world.staff, route="esketamine")
    return patients


def load(world):
    staff = {Role(role): user for role, user in world.staff.items()}
    demo.load(clinic=world.clinic_a, staff=staff, rng=random.Random(1))


def test_the_demo_follows_the_stage_plan_and_runs_twice_without_duplicates(world, clinic_patients):
    # when the demo runs twice
    load(world)
    counts = (Chair.objects.count(), Course.objects.count(), Appointment.objects.count())
    load(world)
    # then nothing was added the second time
    assert (Chair.objects.count(), Course.objects.count(), Appointment.objects.count()) == counts
    assert counts[0] == 6 and ClinicSchedule.objects.filter(clinic=world.clinic_a).count() == 1
    by_position = {
        position: list(Course.objects.filter(patient=clinic_patients[position - 1]))
        for position in range(1, 16)
    }
    # 7-10 and 11: active IV induction with past completed sessions and later ones booked
    for position in (7, 8, 9, 10, 11):
        [course] = by_position[position]
        statuses = set(course.appointments.values_list("status", flat=True))
        assert course.status == "active" and {"completed", "booked"} <= statuses, position
    # 11 has a session today, still booked for the session workflow
    zone = clinic_zone(world.clinic_a)
    today = local_date(timezone.now(), zone)
    [live] = by_position[11]
    assert [
        a.status for a in live.appointments.all() if local_date(a.starts_at, zone) == today
    ] == ["booked"]
    # 12 esketamine, 13 completed, 15 a booster course after a completed course
    assert by_position[12][0].protocol_id == "esketamine_trd"
    assert by_position[13][0].status == "completed"
    booster = next(c for c in by_position[15] if c.kind == "booster")
    assert booster.parent.status == "completed" and booster.protocol_id == "iv_booster"
    # patients without a course in the plan have none
    assert all(not by_position[p] for p in (1, 2, 3, 4, 5, 6, 14))


def test_the_demo_skips_patients_without_screening_or_consent(world):
    [PatientFactory(clinic=world.clinic_a, mrn=f"N{n:05d}") for n in range(1, 16)]
    load(world)
    assert Course.objects.count() == 0 and Chair.objects.count() == 6
