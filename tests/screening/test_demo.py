"""Demo data for the chart, consent and screening: the stages other apps build on, loaded once."""

import random

import pytest

from ketacare.accounts.roles import Role
from ketacare.consent import demo as consent_demo
from ketacare.consent.models import ConsentDocument
from ketacare.consent.selectors import consent_status
from ketacare.patients import demo as patients_demo
from ketacare.patients.models import ChartSectionRevision, IntakeStatus
from ketacare.screening import demo as screening_demo
from ketacare.screening.models import Screening
from ketacare.screening.selectors import (
    screening_allows_treatment,
    screening_current_for,
    screening_out_of_date,
)
from tests.factories import ClinicFactory, PatientFactory, member

pytestmark = pytest.mark.django_db


def _load(clinic, staff):
    for module in (patients_demo, consent_demo, screening_demo):
        module.load(clinic=clinic, staff=staff, rng=random.Random(7))  # noqa: S311


@pytest.fixture
def demo_clinic():
    clinic = ClinicFactory(slug="north")
    staff = {role: member(clinic, role, f"north.{role.value}") for role in Role}
    for n in range(1, 16):
        PatientFactory(clinic=clinic, mrn=f"N{n:05d}", sex="male" if n % 2 else "female")
    _load(clinic, staff)
    return clinic, staff


def test_the_demo_patients_reach_their_stages(demo_clinic):
    clinic, _ = demo_clinic
    patients = list(clinic.patients.order_by("mrn"))
    assert [p.intake_status for p in patients[:4]] == [
        IntakeStatus.NOT_STARTED,
        IntakeStatus.IN_PROGRESS,
        IntakeStatus.IN_PROGRESS,
        IntakeStatus.COMPLETE,
    ]
    status = {n: screening_current_for(patient=patients[n - 1]) for n in range(4, 16)}
    assert status[4].status == "eligible" and screening_allows_treatment(status[4])
    assert status[5].status == "needs review" and status[5].signed_by is None
    assert status[14].status == "ineligible" and status[14].signed_by is None
    for n in (6, 7, 8, 9, 10, 11, 12, 13, 15):
        route = "esketamine" if n == 12 else "iv"
        screening = screening_current_for(patient=patients[n - 1], route=route)
        assert screening_allows_treatment(screening), n
        assert screening_out_of_date(screening) == [], n
        assert screening.protocol_id == ("esketamine_trd" if n == 12 else "iv_induction_6x")
        consent = consent_status(patient=patients[n - 1], route=route)
        assert consent.has_consent and not consent.needs_reconsent, n
    # the four routes' consents and the at-home programme agreement
    assert ConsentDocument.objects.filter(clinic=clinic).count() == 5


def test_loading_the_demo_twice_leaves_one_copy(demo_clinic):
    clinic, staff = demo_clinic
    counts = (Screening.objects.count(), ChartSectionRevision.objects.count())
    _load(clinic, staff)
    assert (Screening.objects.count(), ChartSectionRevision.objects.count()) == counts
