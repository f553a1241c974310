"""The patients API: reads, writes, validation, tenancy, concurrency and audit."""

import json

import pytest

from ketacare.audit.models import AuditEntry
from ketacare.patients.models import Patient

pytestmark = pytest.mark.django_db

NEW_PATIENT = {
    "given_name": "Ada",
    "family_name": "Quill",
    "date_of_birth": "1985-02-03",
    "sex": "female",
}


def _post(client, body, **extra):
    return client.post(
        "/api/v1/patients", json.dumps(body), content_type="application/json", **extra
    )


def _patch(client, patient_id, body):
    return client.patch(
        f"/api/v1/patients/{patient_id}", json.dumps(body), content_type="application/json"
    )


def test_a_nurse_registers_a_patient_in_her_own_clinic(world):
    # when
    response = _post(world.api(world.staff["nurse"]), NEW_PATIENT)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    patient = Patient.objects.get(pk=body["id"])
    assert patient.clinic == world.clinic_a
    assert body["mrn"] == "C00002" and body["version"] == 1  # the clinic's letter, five digits


def test_listing_patients_shows_only_the_callers_clinic(world):
    response = world.api(world.staff["front_desk"]).get("/api/v1/patients")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [world.patient_a.pk]


def test_search_matches_family_name(world):
    client = world.api(world.staff["nurse"])
    hit = client.get("/api/v1/patients", {"search": world.patient_a.family_name[:6]})
    miss = client.get("/api/v1/patients", {"search": "nobody-by-this-name"})
    assert [p["id"] for p in hit.json()] == [world.patient_a.pk]
    assert miss.json() == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**NEW_PATIENT, "shoe_size": 9}, "shoe_size", "unknown field"),
        ({**NEW_PATIENT, "date_of_birth": "yesterday"}, "date_of_birth", ""),
        ({**NEW_PATIENT, "date_of_birth": "2090-01-01"}, "date_of_birth", "future"),
        ({k: v for k, v in NEW_PATIENT.items() if k != "family_name"}, "family_name", "required"),
        ({**NEW_PATIENT, "given_name": ""}, "given_name", ""),
        ({**NEW_PATIENT, "sex": "sometimes"}, "sex", ""),
        ({**NEW_PATIENT, "email": "not-an-address"}, "email", ""),
        ({**NEW_PATIENT, "given_name": 42}, "given_name", ""),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(world, body, field, message):
    # given
    patients_before, audit_before = Patient.objects.count(), AuditEntry.objects.count()
    # when
    response = _post(world.api(world.staff["nurse"]), body)
    # then
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors]
    assert field in response.json()["detail"]
    assert message in " ".join(e["message"] for e in errors)
    assert Patient.objects.count() == patients_before
    assert AuditEntry.objects.count() == audit_before


def test_a_body_that_is_not_json_is_refused(world):
    response = world.api(world.staff["nurse"]).post(
        "/api/v1/patients", "{not json", content_type="application/json"
    )
    assert 400 <= response.status_code < 500


def test_an_oversize_body_is_refused_with_413_and_writes_nothing(world, settings):
    # given a body over the configured limit
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {**NEW_PATIENT, "preferred_name": "x" * 20_000}
    count = Patient.objects.count()
    # when
    response = _post(world.api(world.staff["nurse"]), body)
    # then
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"
    assert Patient.objects.count() == count


def test_patching_with_the_current_version_changes_the_patient_and_bumps_the_version(world):
    response = _patch(
        world.api(world.staff["nurse"]), world.patient_a.pk, {"version": 1, "phone": "555 0100"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "555 0100"
    assert response.json()["version"] == 2


def test_a_stale_version_is_refused_with_409_and_does_not_overwrite(world):
    # given two clinicians who both read version 1
    nurse, desk = world.api(world.staff["nurse"]), world.api(world.staff["front_desk"])
    assert _patch(nurse, world.patient_a.pk, {"version": 1, "phone": "555 0101"}).status_code == 200
    # when the second saves on top of the first
    response = _patch(desk, world.patient_a.pk, {"version": 1, "phone": "555 0199"})
    # then the second is refused and the first change stands
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "version"
    world.patient_a.refresh_from_db()
    assert world.patient_a.phone == "555 0101"


def test_patch_refuses_null_for_a_required_field(world):
    response = _patch(
        world.api(world.staff["nurse"]), world.patient_a.pk, {"version": 1, "family_name": None}
    )
    assert response.status_code == 422
    assert "family_name" in response.json()["detail"]


def test_patch_without_a_version_is_refused(world):
    response = _patch(world.api(world.staff["nurse"]), world.patient_a.pk, {"phone": "1"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "version"


def test_reading_a_patient_by_api_adds_an_audit_entry(world):
    # given
    nurse = world.staff["nurse"]
    # when
    response = world.api(nurse).get(f"/api/v1/patients/{world.patient_a.pk}")
    # then
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(patient_id=world.patient_a.pk, action="read").get()
    assert (entry.actor_username, entry.clinic_id, entry.channel) == (
        nurse.username,
        world.clinic_a.pk,
        "api",
    )
    assert entry.client_address == "127.0.0.1"


def test_a_revoked_token_answers_401(world):
    from ketacare.accounts.models import ApiToken
    from ketacare.accounts.services import token_revoke

    client = world.api(world.staff["nurse"])
    assert client.get("/api/v1/patients").status_code == 200
    token_revoke(token=ApiToken.objects.get(user=world.staff["nurse"]))
    assert client.get("/api/v1/patients").status_code == 401


def test_a_forged_token_answers_401(world):
    from django.test import Client

    client = Client(headers={"Authorization": "Bearer kc_forged-token-value"})
    assert client.get("/api/v1/patients").status_code == 401


def test_the_openapi_document_is_served(world):
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "KetaCare API"
    assert "/api/v1/patients/{patient_id}" in schema["paths"]
