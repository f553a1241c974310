"""The outcomes API: staff-entered responses scored by the core, alerts with versions,
worklists; other clinics get 404."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.clinical.instruments import score
from ketacare.outcomes.models import SafetyAlert, ScaleResponse
from ketacare.scheduling.models import Course
from tests.outcomes.factories import phq9_answers, suicidality_alert
from tests.scheduling.factories import course_row

pytestmark = pytest.mark.django_db


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_nurse_enters_a_paper_phq9_and_gets_the_cores_score_and_the_alert(world):
    url = f"/api/v1/patients/{world.patient_a.pk}/scale-responses"
    answers = phq9_answers(16, item9=1)
    response = _post(
        world.api(world.staff["nurse"]), url, {"instrument_id": "phq9", "answers": answers}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    expected = score("phq9", answers)
    assert body["response"]["total"] == expected.total and body["response"]["band"] == expected.band
    assert [a["code"] for a in body["alerts"]] == ["suicidality"]
    assert body["response"]["source"] == "staff"


def test_a_missing_answer_is_refused_naming_the_item(world):
    url = f"/api/v1/patients/{world.patient_a.pk}/scale-responses"
    response = _post(
        world.api(world.staff["nurse"]), url, {"instrument_id": "phq9", "answers": [1] * 8}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "phq9_q9"
    assert not ScaleResponse.objects.exists()


def test_a_retried_submission_is_stored_once(world):
    url = f"/api/v1/patients/{world.patient_a.pk}/scale-responses"
    body = {"instrument_id": "gad7", "answers": [1] * 7, "idempotency_key": "tablet-42"}
    client = world.api(world.staff["nurse"])
    first, second = _post(client, url, body), _post(client, url, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["response"]["id"] == second.json()["response"]["id"]
    assert ScaleResponse.objects.count() == 1


def test_a_future_time_is_refused(world):
    url = f"/api/v1/patients/{world.patient_a.pk}/scale-responses"
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    body = {"instrument_id": "gad7", "answers": [0] * 7, "recorded_at": later}
    assert _post(world.api(world.staff["nurse"]), url, body).status_code == 422


def test_the_therapist_may_read_scores_but_not_enter_them(world):
    url = f"/api/v1/patients/{world.patient_a.pk}/scale-responses"
    therapist = world.api(world.staff["therapist"])
    assert therapist.get(url).status_code == 200
    assert _post(therapist, url, {"instrument_id": "gad7", "answers": [0] * 7}).status_code == 403


def test_alerts_are_acknowledged_assigned_and_resolved_through_the_api(world):
    alert = suicidality_alert(world.patient_a)
    client = world.api(world.staff["nurse"])
    listed = client.get("/api/v1/alerts").json()
    assert [a["id"] for a in listed] == [alert.pk]
    ack = _post(client, f"/api/v1/alerts/{alert.pk}/acknowledge", {"version": 1})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    stale = _post(client, f"/api/v1/alerts/{alert.pk}/acknowledge", {"version": 1})
    assert stale.status_code == 409
    assign = _post(
        client,
        f"/api/v1/alerts/{alert.pk}/assign",
        {"version": 2, "assignee_id": world.staff["therapist"].pk},
    )
    assert assign.json()["assigned_to_id"] == world.staff["therapist"].pk
    resolved = _post(
        client, f"/api/v1/alerts/{alert.pk}/resolve", {"version": 3, "note": "Seen in clinic."}
    )
    assert resolved.json()["status"] == "resolved"
    assert client.get("/api/v1/alerts").json() == []
    assert len(client.get("/api/v1/alerts", {"include_resolved": True}).json()) == 1


def test_another_clinic_gets_404_for_an_alert(world):
    alert = suicidality_alert(world.patient_a)
    outsider = world.api(world.outsiders["nurse"])
    assert outsider.get(f"/api/v1/alerts/{alert.pk}").status_code == 404
    assert (
        _post(outsider, f"/api/v1/alerts/{alert.pk}/acknowledge", {"version": 1}).status_code == 404
    )
    assert outsider.get("/api/v1/alerts").json() == []
    assert SafetyAlert.objects.get(pk=alert.pk).status == "open"


def test_outcomes_come_from_the_core(world):
    url = f"/api/v1/patients/{world.patient_a.pk}/scale-responses"
    client = world.api(world.staff["nurse"])
    start = timezone.now() - timedelta(days=20)
    # a course begun two days after the first score: that score is the baseline (the last before
    # the first dose); without any course or dose the latest score would be the baseline
    course = course_row(world.patient_a, world.staff)
    Course.objects.filter(pk=course.pk).update(
        started_on=timezone.localdate(start + timedelta(days=2))
    )
    for days, total in [(0, 20), (10, 9), (20, 3)]:
        body = {
            "instrument_id": "phq9",
            "answers": phq9_answers(total),
            "recorded_at": (start + timedelta(days=days)).isoformat(),
        }
        assert _post(client, url, body).status_code == 201
    outcomes = client.get(f"/api/v1/patients/{world.patient_a.pk}/outcomes").json()
    assert outcomes == [
        {
            "instrument_id": "phq9",
            "responses": 3,
            "baseline_total": 20,
            "latest_total": 3,
            "latest_band": "minimal",
            "outcome": "remission",
        }
    ]
