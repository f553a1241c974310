"""The staff's at-home forms in the browser's terms: enrol from an MRN, sign a prescription with
the password again, record the fill and lost units, step the dose, hand out the links. A refusal
shows on the form (or the programme page) and writes nothing; another clinic's programme is 404."""

from __future__ import annotations

import pytest

from ketacare.athome.models import (
    DoseStep,
    HomePrescription,
    HomeProgramme,
    SupplyKind,
    SupplyMovement,
)
from tests.athome.conftest import (
    RX,
    enrol,
    prescribe,
    ready_for_home,
    screen_eligible,
    sign_agreement,
)
from tests.factories import TEST_PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db


def _enrol_post(patient, **change):
    return {
        "mrn": patient.mrn, "evaluation_on": "2026-11-20", "evaluation_modality": "audio_video",
        "sitter_name": "Sam Sitter", "sitter_phone": "555-0100", "idempotency_key": "enrol-form-1",
        **change,
    }  # fmt: skip


def test_a_nurse_enrols_a_patient_from_the_chart(world):
    ready_for_home(world, world.patient_a)
    client = world.web(world.staff["nurse"])
    page = client.get(f"/athome/enrol/?patient={world.patient_a.pk}").content.decode()
    assert f'value="{world.patient_a.mrn}"' in page
    answer = client.post("/athome/enrol/", _enrol_post(world.patient_a))
    programme = HomeProgramme.objects.get(patient=world.patient_a)
    assert answer.status_code == 302 and answer["Location"] == f"/athome/programmes/{programme.pk}/"


def test_enrolment_without_an_eligible_screening_is_refused_on_the_form(world):
    sign_agreement(world, world.patient_a)
    screen_eligible(world, world.patient_a, status="needs review", reason="Reviewed.")
    answer = world.web(world.staff["nurse"]).post("/athome/enrol/", _enrol_post(world.patient_a))
    assert answer.status_code == 422
    assert "no clinician watches the dose" in answer.content.decode()
    assert not HomeProgramme.objects.exists()


def test_an_unknown_or_other_clinics_mrn_is_named_on_the_form(world):
    client = world.web(world.staff["nurse"])
    for mrn in ("NOPE-1", world.patient_b.mrn):
        answer = client.post("/athome/enrol/", _enrol_post(world.patient_a, mrn=mrn))
        assert answer.status_code == 422
        assert "No patient of this clinic has this MRN." in answer.content.decode()
    assert not HomeProgramme.objects.exists()


def test_a_front_desk_member_cannot_open_the_enrolment_form(world):
    assert world.web(world.staff["front_desk"]).get("/athome/enrol/").status_code == 403


def _rx_post(**change):
    values = {**RX, "issued_on": "2026-12-01", "pdmp_checked_on": "2026-12-01", **change}
    values["in_person_evaluation_on"] = values["in_person_evaluation_on"] or ""
    return {**values, "idempotency_key": "rx-form-1"}


def test_a_prescriber_signs_a_prescription_with_the_password_again(world):
    programme = enrol(world)
    client = world.web(world.staff["prescriber"])
    assert (
        'data-testid="signing-secret"'
        in client.get(f"/athome/programmes/{programme.pk}/prescribe/").content.decode()
    )
    unsigned = client.post(f"/athome/programmes/{programme.pk}/prescribe/", _rx_post())
    assert unsigned.status_code == 422 and "signing PIN" in unsigned.content.decode()
    assert not HomePrescription.objects.exists()
    signed = client.post(
        f"/athome/programmes/{programme.pk}/prescribe/",
        {**_rx_post(), "signing_secret": TEST_PASSWORD},
    )
    assert signed.status_code == 302
    assert HomePrescription.objects.get().rules_period == "flexibilities_through_2026"


def test_a_2027_video_prescription_is_refused_on_the_form_naming_the_basis(world):
    programme = enrol(world)
    answer = world.web(world.staff["prescriber"]).post(
        f"/athome/programmes/{programme.pk}/prescribe/",
        {**_rx_post(issued_on="2027-01-04", pdmp_checked_on="2027-01-04"),
         "signing_secret": TEST_PASSWORD},
    )  # fmt: skip
    assert answer.status_code == 422
    assert "in_person_evaluation" in answer.content.decode() or "in-person" in (
        answer.content.decode().lower()
    )
    assert not HomePrescription.objects.exists()


def test_a_nurse_cannot_open_the_prescription_form_nor_another_clinics(world):
    programme = enrol(world)
    nurse = world.web(world.staff["nurse"])
    assert nurse.get(f"/athome/programmes/{programme.pk}/prescribe/").status_code == 403
    outsider = world.web(world.outsiders["prescriber"])
    assert outsider.get(f"/athome/programmes/{programme.pk}/prescribe/").status_code == 404


def test_the_fill_and_lost_units_are_recorded_from_the_programme_page(world):
    programme = enrol(world)
    prescribe(world, programme)
    client = world.web(world.staff["nurse"])
    url = f"/athome/programmes/{programme.pk}/"
    assert client.post(url + "dispense/", {"idempotency_key": "fill-0001"}).status_code == 302
    again = client.post(url + "dispense/", {"idempotency_key": "fill-0002"}, follow=True)
    assert "first fill is recorded" in again.content.decode()
    client.post(url + "loss/", {"units": 1, "note": "Dropped one", "idempotency_key": "loss-0001"})
    kinds = list(SupplyMovement.objects.order_by("id").values_list("kind", "units"))
    assert kinds == [(SupplyKind.DISPENSED, 4), (SupplyKind.LOST, 1)]
    bad = client.post(
        url + "loss/", {"units": 0, "note": "x", "idempotency_key": "loss-0002"}, follow=True
    )
    assert "Units lost or missing" in bad.content.decode()
    assert SupplyMovement.objects.count() == 2


def test_a_dose_step_outside_the_protocol_is_refused_and_one_inside_is_recorded(world):
    programme = enrol(world)
    client = world.web(world.staff["prescriber"])
    url = f"/athome/programmes/{programme.pk}/dose-step/"
    refused = client.post(url, {"dose_mg": "400", "reason": "More"}, follow=True)
    assert refused.status_code == 200 and DoseStep.objects.count() == 0
    page = refused.content.decode()
    assert "mg" in page and 'class="error"' in page
    # a nurse may not step the dose
    assert (
        world.web(world.staff["nurse"]).post(url, {"dose_mg": "75", "reason": "x"}).status_code
        == 403
    )


def test_the_links_page_shows_each_persons_code_once_and_is_not_cached(world):
    programme = enrol(world)
    answer = world.web(world.staff["nurse"]).post(f"/athome/programmes/{programme.pk}/links/")
    page = answer.content.decode()
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert page.count('data-testid="home-link"') == 2 and page.count("<svg") >= 2
    outsider = world.web(world.outsiders["nurse"]).post(f"/athome/programmes/{programme.pk}/links/")
    assert outsider.status_code == 404


def test_a_second_enrolment_of_another_patient_keeps_the_first(world):
    enrol(world)
    other = PatientFactory(clinic=world.clinic_a)
    ready_for_home(world, other)
    answer = world.web(world.staff["nurse"]).post(
        "/athome/enrol/", _enrol_post(other, idempotency_key="enrol-form-2")
    )
    assert answer.status_code == 302
    assert HomeProgramme.objects.count() == 2
