"""The scheduling API: every step of the web app, with refusals as 422 and a code."""

import json
from datetime import timedelta

import pytest

from ketacare.scheduling.models import Appointment, Chair, Course
from tests.scheduling.factories import (
    ChairFactory,
    appointment_row,
    course_row,
    local,
    next_monday,
    ready_for,
)

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def iso(moment):
    return moment.isoformat()


def test_a_prescriber_starts_a_course_and_gets_every_booked_session(world):
    # given
    ready_for(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    # when
    response = post(
        world.api(world.staff["prescriber"]),
        "/api/v1/courses",
        {
            "patient_id": world.patient_a.pk,
            "protocol_id": "iv_induction_6x",
            "start_on": monday.isoformat(),
            "chair_id": chair.pk,
            "first_time": "09:00",
        },
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["planned_sessions"] == 6 and len(body["appointments"]) == 6
    assert all(a["patient_initials"] == world.patient_a.initials for a in body["appointments"])
    assert "given_name" not in json.dumps(body["appointments"])


def test_a_course_without_consent_answers_422_with_the_reason_and_code(world):
    from tests.scheduling.factories import screening_for

    screening_for(world.patient_a, world.staff["prescriber"])
    response = post(
        world.api(world.staff["prescriber"]),
        "/api/v1/courses",
        {
            "patient_id": world.patient_a.pk,
            "protocol_id": "iv_induction_6x",
            "start_on": next_monday(world.clinic_a).isoformat(),
            "chair_id": ChairFactory(clinic=world.clinic_a).pk,
            "first_time": "09:00",
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "consent_missing"
    assert response.json()["errors"][0]["field"] == "consent"
    assert Course.objects.count() == 0


def test_front_desk_may_not_start_a_course(world):
    response = post(world.api(world.staff["front_desk"]), "/api/v1/courses", {})
    assert response.status_code == 403


def test_the_proposal_previews_dates_and_chair_availability_without_booking(world):
    # given the chair taken on the first Monday at 09:00
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    course = course_row(world.patient_a, world.staff)
    appointment_row(course, chair, local(world.clinic_a, monday, 9))
    # when
    response = world.api(world.staff["front_desk"]).get(
        "/api/v1/schedule/proposal",
        {
            "protocol_id": "iv_induction_6x",
            "start_on": monday.isoformat(),
            "chair_id": chair.pk,
            "first_time": "09:00",
        },
    )
    # then six days are proposed, the first one blocked, and nothing more is booked
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["session_minutes"] == 70 and not body["bookable"]
    assert [s["bookable"] for s in body["sessions"]] == [False] + [True] * 5
    assert body["sessions"][0]["problems"][0]["code"] == "chair_taken"
    assert Appointment.objects.count() == 1


def test_booking_too_soon_by_api_answers_422_too_soon_on_starts_at(world):
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    client = world.api(world.staff["front_desk"])
    body = {"patient_id": world.patient_a.pk, "course_id": course.pk, "chair_id": chair.pk}
    first = post(
        client, "/api/v1/appointments", {**body, "starts_at": iso(local(world.clinic_a, monday, 9))}
    )
    assert first.status_code == 201, first.content
    second = post(
        client,
        "/api/v1/appointments",
        {**body, "starts_at": iso(local(world.clinic_a, monday + timedelta(days=1), 9))},
    )
    assert second.status_code == 422
    assert second.json()["code"] == "too_soon"
    assert second.json()["errors"][0]["field"] == "starts_at"


def test_double_booking_a_chair_by_api_answers_422_chair_taken(world):
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    course = course_row(world.patient_a, world.staff)
    appointment_row(course, chair, local(world.clinic_a, monday, 9))
    from tests.factories import PatientFactory

    other = PatientFactory(clinic=world.clinic_a)
    response = post(
        world.api(world.staff["front_desk"]),
        "/api/v1/appointments",
        {
            "patient_id": other.pk,
            "chair_id": chair.pk,
            "kind": "consult",
            "starts_at": iso(local(world.clinic_a, monday, 9, 30)),
        },
    )
    assert response.status_code == 422 and response.json()["code"] == "chair_taken"


def test_a_naive_time_is_refused_by_validation(world):
    response = post(
        world.api(world.staff["front_desk"]),
        "/api/v1/appointments",
        {"patient_id": world.patient_a.pk, "kind": "consult", "starts_at": "2030-01-07T09:00:00"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "starts_at"


def test_reschedule_cancel_and_status_by_api(world):
    # given a booked session
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    appointment = appointment_row(course, chair, local(world.clinic_a, monday, 9))
    client = world.api(world.staff["front_desk"])
    url = f"/api/v1/appointments/{appointment.pk}"
    # when it is rescheduled
    moved = post(
        client,
        f"{url}/reschedule",
        {"version": 1, "starts_at": iso(local(world.clinic_a, monday, 13)), "reason": "later"},
    )
    # then the new one comes back, pointing at the old one
    assert moved.status_code == 200, moved.content
    assert moved.json()["rescheduled_from_id"] == appointment.pk
    assert client.get(url).json()["cancel_reason"] == "rescheduled"
    # and a stale version is a conflict
    stale = post(client, f"{url}/cancel", {"version": 1, "reason": "x"})
    assert stale.status_code == 409
    # and the new one can be cancelled with a reason
    new_url = f"/api/v1/appointments/{moved.json()['id']}"
    cancelled = post(client, f"{new_url}/cancel", {"version": 1, "reason": "Unwell"})
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Unwell"
    # and a status change on a cancelled appointment is refused
    refused = post(client, f"{new_url}/status", {"status": "arrived"})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_transition"


def test_listing_a_days_appointments_shows_initials_only(world):
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    appointment_row(course, chair, local(world.clinic_a, monday, 9))
    response = world.api(world.staff["therapist"]).get(
        "/api/v1/appointments", {"day": monday.isoformat()}
    )
    assert response.status_code == 200
    [row] = response.json()
    assert row["patient_initials"] == world.patient_a.initials
    assert world.patient_a.family_name not in response.content.decode()
    # a day with nothing
    other_day = (monday + timedelta(days=1)).isoformat()
    assert (
        world.api(world.staff["nurse"]).get("/api/v1/appointments", {"day": other_day}).json() == []
    )


def test_listing_without_a_day_or_range_is_refused(world):
    response = world.api(world.staff["nurse"]).get("/api/v1/appointments")
    assert response.status_code == 422


def test_course_stop_booster_and_booster_course_by_api(world):
    # given an active esketamine course (open-ended) with one session
    ready_for(world.patient_a, world.staff, route="esketamine")
    course = course_row(
        world.patient_a, world.staff, protocol_id="esketamine_trd", route="esketamine", planned=None
    )
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    client = world.api(world.staff["prescriber"])
    # when a booster is added
    booster = post(
        client,
        f"/api/v1/courses/{course.pk}/boosters",
        {"starts_at": iso(local(world.clinic_a, monday, 10)), "chair_id": chair.pk},
    )
    assert booster.status_code == 201, booster.content
    assert booster.json()["kind"] == "booster"
    # and the course is stopped with a reason
    stopped = post(client, f"/api/v1/courses/{course.pk}/stop", {"version": 1, "reason": "Moved"})
    assert stopped.status_code == 200, stopped.content
    assert stopped.json()["status"] == "stopped"
    assert stopped.json()["appointments"][0]["status"] == "cancelled"
    # then a booster course may follow it
    follow = post(
        client,
        f"/api/v1/courses/{course.pk}/booster-courses",
        {
            "protocol_id": "esketamine_trd",
            "start_on": (monday + timedelta(days=14)).isoformat(),
            "chair_id": chair.pk,
            "first_time": "10:00",
            "sessions": 2,
        },
    )
    assert follow.status_code == 201, follow.content
    assert (follow.json()["kind"], follow.json()["parent_id"]) == ("booster", course.pk)
    # and the patient's courses list both
    listed = client.get("/api/v1/courses", {"patient_id": world.patient_a.pk}).json()
    assert {c["id"] for c in listed} == {course.pk, follow.json()["id"]}


def test_chairs_are_listed_for_all_and_added_by_admins(world):
    created = post(world.api(world.staff["admin"]), "/api/v1/chairs", {"room": "B", "label": "1"})
    assert created.status_code == 201
    duplicate = post(world.api(world.staff["admin"]), "/api/v1/chairs", {"room": "B", "label": "1"})
    assert duplicate.status_code == 409
    assert post(world.api(world.staff["nurse"]), "/api/v1/chairs", {"room": "B"}).status_code == 403
    listed = world.api(world.staff["therapist"]).get("/api/v1/chairs").json()
    assert [c["label"] for c in listed] == ["1"]
    assert Chair.objects.get().clinic == world.clinic_a


def test_schedule_settings_refuse_a_chair_time_shorter_than_the_protocols(world):
    client = world.api(world.staff["admin"])
    current = client.get("/api/v1/schedule/settings").json()
    assert current["effective_session_minutes"]["iv"] == 70
    assert current["effective_session_minutes"]["esketamine"] == 130
    body = {
        "version": current["version"],
        "open_weekdays": [0, 1, 2, 3, 4, 5],
        "opens_at": "07:30",
        "closes_at": "19:00",
        "slot_minutes": 15,
        "session_minutes": {"iv": 60},
    }
    too_short = client.put("/api/v1/schedule/settings", json.dumps(body), "application/json")
    assert too_short.status_code == 422 and "70" in too_short.json()["detail"]
    body["session_minutes"] = {"iv": 90}
    saved = client.put("/api/v1/schedule/settings", json.dumps(body), "application/json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["effective_session_minutes"]["iv"] == 90


def test_another_clinics_course_and_appointment_are_not_found(world):
    course = course_row(world.patient_a, world.staff)
    appointment = appointment_row(
        course,
        ChairFactory(clinic=world.clinic_a),
        local(world.clinic_a, next_monday(world.clinic_a), 9),
    )
    outsider = world.api(world.outsiders["prescriber"])
    assert outsider.get(f"/api/v1/courses/{course.pk}").status_code == 404
    assert outsider.get(f"/api/v1/appointments/{appointment.pk}").status_code == 404
    # a body naming another clinic's patient and chair is not found either
    response = post(
        world.api(world.outsiders["front_desk"]),
        "/api/v1/appointments",
        {
            "patient_id": world.patient_a.pk,
            "kind": "consult",
            "starts_at": iso(local(world.clinic_a, next_monday(world.clinic_a), 9)),
        },
    )
    assert response.status_code == 404


def test_every_scheduling_operation_is_in_the_openapi_document(world):
    from django.test import Client

    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/courses",
        "/api/v1/courses/{course_id}",
        "/api/v1/courses/{course_id}/stop",
        "/api/v1/courses/{course_id}/boosters",
        "/api/v1/courses/{course_id}/booster-courses",
        "/api/v1/appointments",
        "/api/v1/appointments/{appointment_id}",
        "/api/v1/appointments/{appointment_id}/reschedule",
        "/api/v1/appointments/{appointment_id}/cancel",
        "/api/v1/appointments/{appointment_id}/status",
        "/api/v1/chairs",
        "/api/v1/schedule/proposal",
        "/api/v1/schedule/settings",
        "/api/v1/schedule/feed",
    ):
        assert path in paths, path
