"""The chart API: typed sections with versions, history, measurements, intake and facts."""

import json

import pytest

from ketacare.patients.models import ChartSection
from tests.patients.factories import complete_chart, eligible_chart

pytestmark = pytest.mark.django_db


def _put(client, patient_id, section, body):
    return client.put(
        f"/api/v1/patients/{patient_id}/chart/{section}",
        json.dumps(body),
        content_type="application/json",
    )


def test_a_section_is_read_changed_and_read_again_with_its_version(world):
    client = world.api(world.staff["nurse"])
    url = f"/api/v1/patients/{world.patient_a.pk}/chart/medicines"
    # given nothing recorded yet
    empty = client.get(url).json()
    assert (empty["version"], empty["data"]) == (0, None)
    # when the nurse records it from version 0
    created = _put(
        client, world.patient_a.pk, "medicines", {"version": 0, "data": {"none_known": True}}
    )
    assert created.status_code == 200, created.content
    assert created.json()["version"] == 1
    assert created.json()["updated_by"]["name"] == world.staff["nurse"].display_name()
    # and changes it from version 1
    changed = _put(
        client,
        world.patient_a.pk,
        "medicines",
        {"version": 1, "data": {"items": [{"generic_name": "Bupropion", "dose": "150 mg"}]}},
    )
    assert changed.json()["data"]["items"][0]["generic_name"] == "bupropion"
    # then a stale version is refused with 409
    stale = _put(
        client, world.patient_a.pk, "medicines", {"version": 1, "data": {"none_known": True}}
    )
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "version"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": 0, "data": {"items": [{"icd10": "sad", "description": "x"}]}}, "icd10"),
        ({"version": 0, "data": {"items": []}}, "data"),
        ({"version": 0, "data": {"none_known": True}, "extra": 1}, "extra"),
        ({"data": {"none_known": True}}, "version"),
    ],
)
def test_invalid_section_input_is_refused_naming_the_field(world, body, field):
    response = _put(world.api(world.staff["nurse"]), world.patient_a.pk, "diagnoses", body)
    assert response.status_code == 422
    assert any(field in e["field"] for e in response.json()["errors"]), response.json()
    assert not ChartSection.objects.exists()


def test_front_desk_may_edit_contacts_but_is_refused_clinical_sections(world):
    client = world.api(world.staff["front_desk"])
    contact = {"version": 0, "data": eligible_chart()["contact"]}
    assert _put(client, world.patient_a.pk, "contact", contact).status_code == 200
    assert client.get(f"/api/v1/patients/{world.patient_a.pk}/chart/diagnoses").status_code == 403
    chart = client.get(f"/api/v1/patients/{world.patient_a.pk}/chart").json()
    assert [s["section"] for s in chart["sections"]] == ["contact"]


def test_another_clinic_gets_404_for_a_section(world):
    client = world.api(world.outsiders["nurse"])
    response = _put(
        client, world.patient_a.pk, "medicines", {"version": 0, "data": {"none_known": True}}
    )
    assert response.status_code == 404


def test_the_history_lists_every_saved_state(world):
    client = world.api(world.staff["nurse"])
    _put(client, world.patient_a.pk, "allergies", {"version": 0, "data": {"none_known": True}})
    _put(
        client,
        world.patient_a.pk,
        "allergies",
        {"version": 1, "data": {"items": [{"substance": "latex", "severity": "severe"}]}},
    )
    history = client.get(
        f"/api/v1/patients/{world.patient_a.pk}/chart-history", {"section": "allergies"}
    ).json()
    assert [h["version"] for h in history] == [2, 1]
    assert history[0]["changed_fields"] == ["items", "none_known"]


def test_measurements_are_recorded_listed_and_voided(world):
    client = world.api(world.staff["nurse"])
    url = f"/api/v1/patients/{world.patient_a.pk}/measurements"
    created = client.post(
        url,
        json.dumps({"measured_on": "2025-01-02", "height_cm": "172.5", "weight_kg": 80}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    bad = client.post(
        url,
        json.dumps({"measured_on": "2025-01-02", "weight_kg": 900}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "weight_kg"
    voided = client.post(
        f"/api/v1/measurements/{created.json()['id']}/void",
        json.dumps({"reason": "wrong patient"}),
        content_type="application/json",
    )
    assert voided.json()["voided_by"]["id"] == world.staff["nurse"].pk
    assert [m["void_reason"] for m in client.get(url).json()] == ["wrong patient"]


def test_the_intake_reports_its_steps_and_completes_when_all_are_done(world):
    client = world.api(world.staff["nurse"])
    url = f"/api/v1/patients/{world.patient_a.pk}/intake"
    assert client.get(url).json()["status"] == "not_started"
    refused = client.post(f"{url}/complete")
    assert refused.status_code == 422 and refused.json()["code"] == "intake_incomplete"
    complete_chart(world.patient_a, world.staff["nurse"])
    done = client.post(f"{url}/complete").json()
    assert (done["status"], done["done"], done["total"]) == ("complete", 12, 12)


def test_intake_facts_show_what_the_screening_will_see(world):
    client = world.api(world.staff["prescriber"])
    body = client.get(f"/api/v1/patients/{world.patient_a.pk}/intake-facts").json()
    assert "medicines" in body["missing"] and body["facts"]["age_years"] > 0
    complete_chart(world.patient_a, world.staff["nurse"])
    body = client.get(f"/api/v1/patients/{world.patient_a.pk}/intake-facts").json()
    assert body["missing"] == []
    assert body["facts"]["diagnoses"] == ["F33.1"]


def test_the_openapi_documents_each_section_with_its_own_schema(world):
    schema = world.api(None).get("/api/v1/openapi.json").json()
    put = schema["paths"]["/api/v1/patients/{patient_id}/chart/baseline_vitals"]["put"]
    assert put["x-permission"] == "chart.edit"
    vitals = schema["components"]["schemas"]["BaselineVitalsData"]
    assert vitals["properties"]["systolic_mmhg"]["maximum"] == 300
    contact = schema["paths"]["/api/v1/patients/{patient_id}/chart/contact"]["put"]
    assert contact["x-permission"] == "patient.edit"
