"""Refused and cross-clinic attempts land on the acting clinic's trail; filter by MRN or name."""

import pytest

from ketacare.audit.models import AuditEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _denials(clinic):
    return AuditEntry.objects.filter(clinic_id=clinic.pk, action="denied").order_by("seq")


def test_opening_another_clinics_patient_page_is_recorded_for_the_acting_clinic(world):
    # when a nurse of clinic A asks for clinic B's patient
    response = world.web(world.staff["nurse"]).get(f"/patients/{world.patient_b.pk}/")
    # then 404, and clinic A's trail names the attempt
    assert response.status_code == 404
    entry = _denials(world.clinic_a).last()
    assert entry.actor_username == "a.nurse"
    assert entry.detail["reason"] == "other_clinic"
    assert (entry.object_type, entry.object_id) == ("patient", str(world.patient_b.pk))
    assert entry.patient_id is None
    assert not _denials(world.clinic_b).exists()


def test_an_api_call_for_another_clinics_patient_is_recorded(world):
    response = world.api(world.staff["prescriber"]).get(f"/api/v1/patients/{world.patient_b.pk}")
    assert response.status_code == 404
    entry = _denials(world.clinic_a).last()
    assert (entry.channel, entry.detail["reason"]) == ("api", "other_clinic")


def test_a_page_the_role_may_not_open_is_recorded_as_not_permitted(world):
    response = world.web(world.staff["front_desk"]).get("/audit/")
    assert response.status_code == 403
    entry = _denials(world.clinic_a).last()
    assert entry.actor_username == "a.front_desk"
    assert entry.detail["reason"] == "permission"
    assert entry.detail["path"] == "/audit/"


def test_an_api_operation_the_role_may_not_call_is_recorded(world):
    response = world.api(world.staff["therapist"]).post(
        "/api/v1/patients", data={}, content_type="application/json"
    )
    assert response.status_code == 403
    assert _denials(world.clinic_a).last().detail["reason"] == "permission"


def test_a_record_that_exists_nowhere_is_not_an_attempt_on_anyones_data(world):
    before = _denials(world.clinic_a).count()
    assert world.web(world.staff["nurse"]).get("/patients/999999/").status_code == 404
    assert _denials(world.clinic_a).count() == before


def _show(world, query):
    return world.web(world.staff["admin"]).get("/audit/", {"patient": query})


def test_the_audit_trail_filters_by_mrn(world):
    # given reads of two patients
    other = PatientFactory(clinic=world.clinic_a, given_name="Ola", family_name="Zimmer")
    nurse = world.web(world.staff["nurse"])
    nurse.get(f"/patients/{world.patient_a.pk}/")
    nurse.get(f"/patients/{other.pk}/")
    # when filtered by the first patient's MRN
    page = _show(world, world.patient_a.mrn.lower()).content.decode()
    # then only that patient's entries are shown, labelled by name and MRN
    assert world.patient_a.mrn in page
    assert "Zimmer" not in page.split('id="audit-rows"')[1]


def test_the_audit_trail_filters_by_name(world):
    other = PatientFactory(clinic=world.clinic_a, given_name="Ola", family_name="Zimmer")
    world.web(world.staff["nurse"]).get(f"/patients/{other.pk}/")
    page = _show(world, "ola zimmer").content.decode()
    rows = page.split('id="audit-rows"')[1]
    assert "Zimmer, Ola" in rows
    assert world.patient_a.family_name not in rows


def test_an_mrn_that_matches_nobody_shows_no_entries_rather_than_all(world):
    world.web(world.staff["nurse"]).get(f"/patients/{world.patient_a.pk}/")
    page = _show(world, "NOPE-1").content.decode()
    assert "No patient of this clinic matches" in page
    assert "No entries match." in page


def test_another_clinics_mrn_matches_nobody(world):
    page = _show(world, world.patient_b.mrn).content.decode()
    assert "No patient of this clinic matches" in page
