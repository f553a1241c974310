"""Screening through the API and the pages: run, read, sign, co-sign; budgets and tenancy."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketacare.accounts.roles import Role
from ketacare.screening.models import Screening
from tests.factories import TEST_PASSWORD, member
from tests.patients.factories import complete_chart
from tests.screening.factories import ScreeningFactory

pytestmark = pytest.mark.django_db


def _post(client, url, body):
    return client.post(
        url,
        json.dumps(body),
        content_type="application/json",
        headers={"X-KetaCare-Reauth": TEST_PASSWORD},  # signing re-authenticates
    )


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_api_runs_a_screening_and_returns_every_fired_rule(world):
    complete_chart(
        world.patient_a, world.staff["nurse"], medicines={"items": [{"generic_name": "tramadol"}]}
    )
    response = _post(
        world.api(world.staff["nurse"]),
        f"/api/v1/patients/{world.patient_a.pk}/screenings",
        {"protocol_id": "iv_induction_6x"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "needs review"
    assert [r["rule_id"] for r in body["fired"]] == ["opioids"]
    assert body["fired"][0]["citation"] and body["fired"][0]["reason"]
    assert body["allows_treatment"] is False
    assert "reason" in body["waiting_for"]


def test_an_unknown_protocol_answers_422_naming_the_field(world):
    response = _post(
        world.api(world.staff["nurse"]),
        f"/api/v1/patients/{world.patient_a.pk}/screenings",
        {"protocol_id": "nope"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "protocol_id"


def test_an_ineligible_screening_goes_forward_through_the_api_only_with_two_prescribers(world):
    complete_chart(
        world.patient_a, world.staff["nurse"], pregnancy={"pregnant": True, "breastfeeding": False}
    )
    run = _post(
        world.api(world.staff["nurse"]),
        f"/api/v1/patients/{world.patient_a.pk}/screenings",
        {"protocol_id": "iv_induction_6x"},
    ).json()
    url = f"/api/v1/screenings/{run['id']}"
    prescriber = world.api(world.staff["prescriber"])
    # without a reason: refused
    refused = _post(prescriber, f"{url}/sign", {"version": run["version"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason"
    # with a reason: signed but still waiting for the co-signature
    signed = _post(
        prescriber,
        f"{url}/sign",
        {"version": run["version"], "reason": "Termination planned; discussed with obstetrics."},
    ).json()
    assert signed["allows_treatment"] is False
    assert signed["waiting_for"] == "A second prescriber's co-signature."
    # the signer cannot co-sign
    same = _post(prescriber, f"{url}/cosign", {"version": signed["version"]})
    assert same.status_code == 422 and same.json()["code"] == "cosigner_is_signer"
    # a second prescriber can
    second = world.api(member(world.clinic_a, Role.PRESCRIBER, "a.second"))
    cosigned = _post(second, f"{url}/cosign", {"version": signed["version"], "note": "Agree."})
    assert cosigned.status_code == 200, cosigned.content
    assert cosigned.json()["allows_treatment"] is True
    assert (
        cosigned.json()["cosigned_by"]["name"] == "Test " + "a.second"
        or cosigned.json()["cosigned_by"]["id"]
    )


def test_a_nurse_may_not_sign_and_another_clinic_sees_nothing(world):
    screening = ScreeningFactory(patient=world.patient_a, run_by=world.staff["nurse"])
    url = f"/api/v1/screenings/{screening.pk}"
    assert _post(world.api(world.staff["nurse"]), f"{url}/sign", {"version": 1}).status_code == 403
    assert world.api(world.outsiders["prescriber"]).get(url).status_code == 404
    assert world.api(world.staff["front_desk"]).get(url).status_code == 403


def test_the_list_says_which_screening_is_current_and_which_is_out_of_date(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    client = world.api(world.staff["prescriber"])
    url = f"/api/v1/patients/{world.patient_a.pk}/screenings"
    run = _post(client, url, {"protocol_id": "iv_induction_6x"}).json()
    _post(client, f"/api/v1/screenings/{run['id']}/sign", {"version": 1})
    world.api(world.staff["nurse"]).put(
        f"/api/v1/patients/{world.patient_a.pk}/chart/baseline_vitals",
        json.dumps(
            {
                "version": 1,
                "data": {
                    "measured_at": "2025-01-01T10:00:00+00:00",
                    "systolic_mmhg": 150,
                    "diastolic_mmhg": 95,
                },
            }
        ),
        content_type="application/json",
    )
    [listed] = client.get(url).json()
    assert listed["out_of_date"] == ["diastolic_mmhg", "systolic_mmhg"]
    assert listed["allows_treatment"] is False


def test_the_result_page_shows_rules_sources_and_missing_facts(world):
    complete_chart(
        world.patient_a,
        world.staff["nurse"],
        substance_use={"items": [{"substance": "alcohol", "details": "most evenings"}]},
        baseline_vitals=None,
    )
    client = world.web(world.staff["nurse"])
    client.post(
        f"/screening/patients/{world.patient_a.pk}/run/", {"protocol_id": "iv_induction_6x"}
    )
    screening = Screening.objects.get()
    page = client.get(f"/screening/{screening.pk}/").content.decode()
    assert "Needs review" in page
    assert 'data-rule="alcohol_use"' in page and "CNS depressant" in page
    assert "Blood pressure, systolic" in page and "?step=baseline_vitals" in page
    assert "Sign screening" not in page  # a nurse may not sign


def test_a_prescriber_signs_from_the_page_and_a_missing_reason_keeps_the_form(world):
    screening = ScreeningFactory(patient=world.patient_a, run_by=world.staff["nurse"])
    client = world.web(world.staff["prescriber"])
    url = f"/screening/{screening.pk}/"
    assert "Sign screening" in client.get(url).content.decode()
    secret = {"signing_secret": TEST_PASSWORD}
    refused = client.post(f"{url}sign/", {"version": 1, "reason": ""} | secret)
    assert refused.status_code == 422
    assert b"documented reason" in refused.content
    done = client.post(
        f"{url}sign/", {"version": 1, "reason": "Reviewed by phone with the GP."} | secret
    )
    assert done.status_code == 302
    screening.refresh_from_db()
    assert screening.signed_by == world.staff["prescriber"]


def test_the_screening_pages_have_a_fixed_query_budget(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    client = world.web(world.staff["prescriber"])
    list_url = f"/screening/patients/{world.patient_a.pk}/"
    one = ScreeningFactory(patient=world.patient_a, run_by=world.staff["nurse"])
    client.get(list_url)
    list_one = _count(client, list_url)
    detail_one = _count(client, f"/screening/{one.pk}/")
    ScreeningFactory.create_batch(30, patient=world.patient_a, run_by=world.staff["nurse"])
    assert _count(client, list_url) == list_one <= 16
    assert _count(client, f"/screening/{one.pk}/") == detail_one <= 17
