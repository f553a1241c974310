"""The session demo: past sessions given and discharged, today's live infusion; idempotent."""

import random

import pytest

from ketacare.accounts.roles import Role
from ketacare.ledger import demo as ledger_demo
from ketacare.rems import demo as rems_demo
from ketacare.scheduling import demo as scheduling_demo
from ketacare.treatment import demo
from ketacare.treatment.models import MonitoringEntry, SessionStatus, TreatmentSession
from tests.browser import clinic_daytime
from tests.factories import PatientFactory
from tests.scheduling.factories import ready_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staged(world):
    """Fifteen demo-like patients, the staged ones screened and consented, with their courses.

    The clinic clock moves on to working hours first: just after the clinic's midnight the live
    infusion would have had no time to run (the demo clamps it to today).
    """
    clinic_daytime()
    patients = [PatientFactory(clinic=world.clinic_a, mrn=f"N{n:05d}") for n in range(1, 16)]
    for position in (7, 8, 9, 10, 11, 13, 15):
        ready_for(patients[position - 1], world.staff)
    ready_for(patients[11], world.staff, route="esketamine")
    staff = {Role(role): user for role, user in world.staff.items()}
    scheduling_demo.load(clinic=world.clinic_a, staff=staff, rng=random.Random(1))
    ledger_demo.load(clinic=world.clinic_a, staff=staff, rng=random.Random(1))
    rems_demo.load(clinic=world.clinic_a, staff=staff, rng=random.Random(1))
    return patients, staff


def test_the_demo_gives_past_sessions_and_one_live_infusion_and_runs_twice(world, staged):
    patients, staff = staged
    # when the session demo runs twice
    demo.load(clinic=world.clinic_a, staff=staff, rng=random.Random(2))
    counts = (TreatmentSession.objects.count(), MonitoringEntry.objects.count())
    demo.load(clinic=world.clinic_a, staff=staff, rng=random.Random(3))
    # then nothing was added the second time
    assert (TreatmentSession.objects.count(), MonitoringEntry.objects.count()) == counts
    # and patient 11 is mid-infusion today, dose verified by someone other than the orderer
    live = TreatmentSession.objects.get(status=SessionStatus.DOSING)
    assert live.patient == patients[10]
    order = live.dose_orders.get()
    assert order.verified_by_id and order.verified_by_id != order.ordered_by_id
    assert live.administration.state == "running"
    assert live.entries.count() >= 2
    # and the staged courses' past sessions were given and discharged
    given = set(
        TreatmentSession.objects.filter(status=SessionStatus.DISCHARGED).values_list(
            "patient__mrn", flat=True
        )
    )
    assert {p.mrn for p in patients[6:10]} <= given
    assert patients[11].mrn in given  # esketamine
    assert (
        TreatmentSession.objects.exclude(
            status__in=(SessionStatus.DISCHARGED, SessionStatus.DOSING)
        ).count()
        == 0
    )


def test_the_demo_skips_a_clinic_without_courses(world):
    for n in range(1, 16):
        PatientFactory(clinic=world.clinic_a, mrn=f"N{n:05d}")
    staff = {Role(role): user for role, user in world.staff.items()}
    demo.load(clinic=world.clinic_a, staff=staff, rng=random.Random(2))
    assert TreatmentSession.objects.count() == 0
