"""Staff pages of the at-home programme: the board with its query budget, a programme, the
printable prescription, refill and review forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketacare.athome import services
from ketacare.athome.models import HomeProgramme
from ketacare.kernel import clock
from tests.athome.conftest import GOOD_GATE, actor, enrol, key, prescribe, take_a_dose
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _queries(client, url):
    client.get(url)  # warm up (session, permissions)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured), "\n".join(q["sql"][:120] for q in captured)


def test_the_board_shows_next_dose_bp_tracker_supply_and_flags(world, home):
    # given one dose taken with its tracker, and a second blocked at 172/98
    take_a_dose(home)
    clock.travel(timedelta(days=7))
    dose = services.home_dose_open(link=home.patient_link)
    services.home_dose_sitter_attest(link=home.sitter_link, dose_id=dose.pk)
    services.home_dose_gate(
        link=home.patient_link, dose_id=dose.pk, **{**GOOD_GATE, "systolic": 172, "diastolic": 98}
    )
    # when the nurse opens the board
    page = world.web(world.staff["nurse"]).get("/athome/").content.decode()
    # then the row shows the last home BP, the tracker, the supply left and the open flag
    assert world.patient_a.display_name in page
    assert 'data-testid="athome-bp">172/98<' in page
    assert 'data-testid="athome-tracker">in<' in page
    assert 'data-testid="athome-supply">3<' in page
    assert "<strong>1</strong>" in page


def test_the_board_makes_the_same_queries_for_one_or_many_patients(world, home):
    client = world.web(world.staff["nurse"])
    one, _ = _queries(client, "/athome/")
    for _ in range(3):
        programme = enrol(world, PatientFactory(clinic=world.clinic_a))
        prescribe(world, programme)
        services.supply_dispense(
            actor=actor(world, "nurse"), programme_id=programme.pk, idempotency_key=key()
        )
    many, sql = _queries(client, "/athome/")
    assert many == one, sql


def test_the_programme_page_and_the_printable_prescription(world, home):
    client = world.web(world.staff["prescriber"])
    page = client.get(f"/athome/programmes/{home.programme.pk}/").content.decode()
    assert "Release a refill" in page
    rx = home.programme.prescriptions.get()
    pdf = client.get(f"/athome/prescriptions/{rx.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_refill_asked_before_the_follow_up_is_refused_on_the_page(world, home):
    client = world.web(world.staff["prescriber"])
    url = f"/athome/programmes/{home.programme.pk}/"
    response = client.post(url + "refill/", {"idempotency_key": key()}, follow=True)
    assert "Refill refused" in response.content.decode()
    assert "refill_review_missing" in response.content.decode()


def test_a_review_is_recorded_from_the_page(world, home):
    client = world.web(world.staff["nurse"])
    url = f"/athome/programmes/{home.programme.pk}/review/"
    form = {"reviewed_on": "2026-12-01", "modality": "audio_video", "note": "Well."}
    client.post(url, {**form, "counted_units": "4"})
    assert HomeProgramme.objects.get(pk=home.programme.pk).reviews.count() == 1


def test_another_clinic_cannot_open_the_programme(world, home):
    client = world.web(world.outsiders["prescriber"])
    assert client.get(f"/athome/programmes/{home.programme.pk}/").status_code == 404


def test_front_desk_does_not_see_the_board(world):
    assert world.web(world.staff["front_desk"]).get("/athome/").status_code == 403
