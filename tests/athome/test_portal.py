"""The at-home dose on the phone: start, the sitter's own link, the gate, the dose and timer,
the tracker; the next dose locked until the tracker is in; a high BP blocks the dose."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from ketacare.athome.models import DoseStatus, HomeDose
from ketacare.outcomes.models import SafetyAlert
from tests.athome.conftest import QUIET_TRACKER

pytestmark = pytest.mark.django_db

GATE_FORM = {
    "systolic": "128", "diastolic": "80", "heart_rate": "74", "fasting": "yes",
    "no_alcohol_or_substances": "yes", "safe_place": "yes",
}  # fmt: skip


@pytest.fixture
def phones(world, home):
    from ketacare.athome import services
    from tests.athome.conftest import actor

    patient, sitter = services.programme_links_issue(
        actor=actor(world, "nurse"), programme_id=home.programme.pk
    )
    return f"/portal/{patient.token}/home/", f"/portal/{sitter.token}/home/", patient.token


def _dose(home):
    return HomeDose.objects.filter(programme=home.programme).order_by("-id").first()


def test_a_patient_and_sitter_walk_one_dose_on_their_phones(home, phones, session_clock):
    patient, sitter, token = phones
    phone, sitter_phone = Client(), Client()
    # the portal link itself leads to the home dose
    assert phone.get(f"/portal/{token}/")["Location"].endswith(patient)
    assert "Start today" in phone.get(patient).content.decode()
    phone.post(patient + "start/")
    assert "Ask Sam Sitter" in phone.get(patient).content.decode()
    dose = _dose(home)
    # the sitter confirms from their own phone
    assert "about to take a home dose" in sitter_phone.get(sitter).content.decode()
    sitter_phone.post(f"{sitter}{dose.pk}/attest/")
    assert "has confirmed" in phone.get(patient).content.decode()
    phone.post(f"{patient}{dose.pk}/gate/", GATE_FORM)
    assert "50 mg" in phone.get(patient).content.decode()
    response = phone.post(f"{patient}{dose.pk}/take/")
    assert response["Location"].endswith(f"{dose.pk}/tracker/")
    assert "Session timer" in phone.get(response["Location"]).content.decode()
    # the next dose stays locked until the tracker is in
    session_clock.travel(timedelta(days=7))
    assert phone.get(patient)["Location"].endswith(f"{dose.pk}/tracker/")
    phone.post(f"{patient}{dose.pk}/tracker/", {k: str(v) for k, v in QUIET_TRACKER.items()})
    assert _dose(home).status == DoseStatus.TRACKED
    assert "Start today" in phone.get(patient).content.decode()


def test_a_bp_of_172_over_98_blocks_the_dose_on_the_phone_and_raises_an_alert(home, phones):
    patient, sitter, _ = phones
    phone = Client()
    phone.post(patient + "start/")
    dose = _dose(home)
    Client().post(f"{sitter}{dose.pk}/attest/")
    phone.post(f"{patient}{dose.pk}/gate/", {**GATE_FORM, "systolic": "172", "diastolic": "98"})
    page = phone.get(patient).content.decode()
    assert "Do not take your dose today" in page
    assert "The clinic will call you" in page
    assert SafetyAlert.objects.filter(code="home_bp_above_limit").count() == 1


def test_a_missing_answer_keeps_the_gate_open_with_the_reason(home, phones):
    patient, sitter, _ = phones
    phone = Client()
    phone.post(patient + "start/")
    dose = _dose(home)
    response = phone.post(f"{patient}{dose.pk}/gate/", GATE_FORM)
    assert response.status_code == 422
    assert "sitter" in response.content.decode()
    assert _dose(home).status == DoseStatus.OPEN


def test_a_sitters_link_does_not_reach_another_patients_dose(world, home, phones):
    from ketacare.athome import services
    from tests.athome.conftest import actor, enrol, key, prescribe
    from tests.factories import PatientFactory

    other = enrol(world, PatientFactory(clinic=world.clinic_a))
    prescribe(world, other)
    services.supply_dispense(
        actor=actor(world, "nurse"), programme_id=other.pk, idempotency_key=key()
    )
    other_link, _ = services.programme_links_issue(
        actor=actor(world, "nurse"), programme_id=other.pk
    )
    other_dose = services.home_dose_open(link=other_link.link)
    _, sitter, _ = phones
    response = Client().post(f"{sitter}{other_dose.pk}/attest/")
    assert response.status_code == 422
    other_dose.refresh_from_db()
    assert other_dose.sitter_attested_at is None


def test_an_unknown_link_gets_the_plain_page(db):
    assert Client().get("/portal/not-a-real-token/home/").status_code == 404
