"""Every input bounded where it enters: bad values answer 4xx naming the field, nothing written."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from ketacare.audit.models import AuditEntry
from ketacare.outcomes.models import ScaleResponse
from ketacare.patients.models import Patient
from tests.outcomes.factories import phq9_answers

pytestmark = pytest.mark.django_db


def _post(client, url, body, content_type="application/json"):
    return client.post(url, json.dumps(body), content_type=content_type)


def _field(response):
    return [error["field"] for error in response.json().get("errors", [])]


@pytest.mark.parametrize("recorded_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z"])
def test_a_scale_response_dated_outside_1900_to_2100_is_refused_naming_the_field(
    world, recorded_at
):
    # given
    url = f"/api/v1/patients/{world.patient_a.pk}/scale-responses"
    before = ScaleResponse.objects.count()
    body = {"instrument_id": "phq9", "answers": phq9_answers(5), "recorded_at": recorded_at}
    # when
    response = _post(world.api(world.staff["nurse"]), url, body)
    # then
    assert response.status_code == 422, response.content
    assert _field(response) == ["recorded_at"]
    assert ScaleResponse.objects.count() == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/abc",
        "/api/v1/patients/1.5",
        f"/api/v1/patients/{2**70}",
        f"/api/v1/patients/{2**63}",
        "/api/v1/patients/-1",
    ],
)
def test_a_path_id_that_cannot_name_a_row_answers_not_found_not_a_server_error(world, path):
    response = world.api(world.staff["nurse"]).get(path)
    assert response.status_code in {404, 422}, (path, response.status_code)


@pytest.mark.parametrize("path", ["/patients/{big}/", "/outcomes/patients/{big}/"])
def test_a_page_id_of_two_to_the_seventy_answers_not_found(world, path):
    response = world.web(world.staff["nurse"]).get(path.format(big=2**70))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("offset=" + str(2**63), "offset"),
        ("limit=1e23", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_patient_list_paging_out_of_range_is_refused_naming_the_parameter(world, query, field):
    response = world.api(world.staff["nurse"]).get(f"/api/v1/patients?{query}")
    assert response.status_code == 422 and _field(response) == [field]


@pytest.mark.parametrize(
    "url",
    [
        "/schedule/?date=9999-12-31",
        "/schedule/?date=0001-01-01",
        "/schedule/week/?date=9999-12-31",
        "/schedule/appointments/new/?start=0001-01-01T00:00:00%2B14:00",
        "/schedule/appointments/new/?start=9999-12-31T23:59",
        "/sessions/?day=9999-12-31",
        "/audit/?since=0001-01-01",
    ],
)
def test_pages_given_dates_far_outside_the_clinical_range_answer_400(world, url):
    role = "admin" if url.startswith(("/audit", "/schedule/?")) else "prescriber"
    response = world.web(world.staff[role]).get(url)
    assert response.status_code == 400, (url, response.status_code)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/appointments?start=9999-12-31&end=9999-12-31",
        "/api/v1/sessions?day=9999-12-31",
    ],
)
def test_api_date_parameters_far_outside_the_range_answer_422(world, url):
    response = world.api(world.staff["prescriber"]).get(url)
    assert response.status_code in {404, 422}, (url, response.status_code, response.content)
    assert response.status_code != 500


def test_a_nul_byte_in_a_search_answers_400_naming_the_parameter(world):
    response = world.web(world.staff["nurse"]).get("/patients/?q=ab%00c")
    assert response.status_code == 400 and b"q" in response.content
    api = world.api(world.staff["nurse"]).get("/api/v1/patients?search=ab%00c")
    assert api.status_code == 400 and _field(api) == ["search"]


def test_a_nul_byte_in_json_text_is_refused_naming_the_field_and_nothing_is_written(world):
    # given
    before = (Patient.objects.count(), AuditEntry.objects.count())
    body = {
        "given_name": "Ann\u0000",
        "family_name": "Lee",
        "date_of_birth": "1980-01-01",
        "mrn": "N-NUL",
    }
    # when
    response = _post(world.api(world.staff["front_desk"]), "/api/v1/patients", body)
    # then
    assert response.status_code == 422 and "given_name" in _field(response)
    assert (Patient.objects.count(), AuditEntry.objects.count()) == before


def test_a_nul_byte_in_a_form_field_is_refused(world):
    client = world.web(world.staff["front_desk"])
    response = client.post("/patients/new/", {"given_name": "A\x00", "family_name": "B"})
    assert response.status_code == 400 and b"given_name" in response.content


def test_json_sent_as_text_plain_is_refused_with_415(world):
    body = {"instrument_id": "phq9", "answers": phq9_answers(5)}
    url = f"/api/v1/patients/{world.patient_a.pk}/scale-responses"
    before = ScaleResponse.objects.count()
    response = _post(world.api(world.staff["nurse"]), url, body, content_type="text/plain")
    assert response.status_code == 415 and _field(response) == ["body"]
    assert ScaleResponse.objects.count() == before


def test_a_stored_response_dated_year_one_does_not_take_pages_down(world):
    # given a row stored before the bounds existed (the API now refuses it)
    row = ScaleResponse.objects.create(
        clinic=world.clinic_a,
        patient=world.patient_a,
        instrument_id="phq9",
        answers=phq9_answers(20),
        total=20,
        band="severe",
        source="staff",
        recorded_at=datetime(1, 1, 1, 10, tzinfo=UTC),
    )
    if connection.vendor == "postgresql":  # 0001-01-01T00:00+14:00 is 1 BC in UTC
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE outcomes_scaleresponse SET recorded_at = %s::timestamptz WHERE id = %s",
                ["0001-01-01T00:00:00+14:00", row.pk],
            )
    client = world.web(world.staff["prescriber"])
    # then every page that reads it still answers
    for url in [
        f"/outcomes/patients/{world.patient_a.pk}/",
        "/outcomes/dashboard/",
        "/outcomes/boosters/",
        f"/patients/{world.patient_a.pk}/",
    ]:
        assert client.get(url).status_code == 200, url
    api = world.api(world.staff["prescriber"])
    assert api.get(f"/api/v1/patients/{world.patient_a.pk}/scale-responses").status_code == 200


def test_diastolic_above_systolic_is_refused_by_the_api_schema_naming_diastolic():
    from pydantic import ValidationError

    from ketacare.treatment.schemas import MonitoringEntryIn

    with pytest.raises(ValidationError) as refused:
        MonitoringEntryIn.model_validate({"systolic": 40, "diastolic": 200})
    assert [error["loc"] for error in refused.value.errors()] == [("diastolic",)]
    assert MonitoringEntryIn.model_validate({"systolic": 120, "diastolic": 80}).diastolic == 80


def test_diastolic_above_systolic_is_refused_by_the_form_naming_diastolic():
    from ketacare.treatment.forms import MonitoringForm

    form = MonitoringForm(
        data={"idempotency_key": "k1", "systolic": "90", "diastolic": "120", "heart_rate": "70"}
    )
    assert not form.is_valid()
    assert "diastolic" in form.errors
