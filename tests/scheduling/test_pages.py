"""Schedule pages: the calendar, booking from a slot, courses; fixed query budgets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.scheduling.models import Appointment, Course
from tests.factories import PatientFactory
from tests.scheduling.factories import (
    ChairFactory,
    appointment_row,
    course_row,
    local,
    next_monday,
    ready_for,
)

pytestmark = pytest.mark.django_db


def fill_day(world, monday, appointments):
    """`appointments` sessions on Monday, one per chair-slot, each for its own patient."""
    chairs = [ChairFactory(clinic=world.clinic_a, room=f"Room {i % 2}") for i in range(6)]
    for n in range(appointments):
        patient = PatientFactory(clinic=world.clinic_a)
        course = course_row(patient, world.staff)
        hour = 8 + 2 * (n // len(chairs))
        appointment_row(course, chairs[n % len(chairs)], local(world.clinic_a, monday, hour))
    return chairs


@pytest.mark.parametrize("appointments", [1, 24])
def test_the_day_view_makes_the_same_queries_whatever_the_bookings(
    world, appointments, django_assert_num_queries
):
    monday = next_monday(world.clinic_a)
    fill_day(world, monday, appointments)
    client = world.web(world.staff["front_desk"])
    client.get("/schedule/")  # the clinic's audit chain now exists
    # session, user, memberships; schedule settings, chairs, appointments; the audit append
    # (savepoint, lock the head, insert, update, release)
    with django_assert_num_queries(11):
        response = client.get("/schedule/", {"date": monday.isoformat()})
    assert response.status_code == 200
    assert response.content.count(b'class="appt ') == appointments


@pytest.mark.parametrize("appointments", [1, 24])
def test_the_week_view_makes_the_same_queries_whatever_the_bookings(
    world, appointments, django_assert_num_queries
):
    monday = next_monday(world.clinic_a)
    fill_day(world, monday, appointments)
    client = world.web(world.staff["nurse"])
    client.get("/schedule/week/")
    with django_assert_num_queries(11):
        response = client.get("/schedule/week/", {"date": monday.isoformat()})
    assert response.status_code == 200
    assert response.content.count(b'class="chip"') == appointments


def test_the_day_view_shows_initials_type_status_and_capacity(world):
    # given two of six chairs booked at 08:00
    monday = next_monday(world.clinic_a)
    fill_day(world, monday, 2)
    response = world.web(world.staff["front_desk"]).get("/schedule/", {"date": monday.isoformat()})
    text = response.content.decode()
    assert "2/6" in text and "Treatment session" in text and "Booked" in text
    # and free future slots offer booking in place (htmx)
    assert 'hx-get="/schedule/appointments/new/?chair=' in text


def test_a_room_filter_shows_only_that_rooms_chairs(world):
    monday = next_monday(world.clinic_a)
    fill_day(world, monday, 6)
    response = world.web(world.staff["nurse"]).get(
        "/schedule/", {"date": monday.isoformat(), "room": "Room 1"}
    )
    assert response.content.count(b'class="appt ') == 3
    assert b"0/3" in response.content or b"3/3" in response.content


def test_staff_without_booking_rights_see_no_booking_buttons(world):
    monday = next_monday(world.clinic_a)
    fill_day(world, monday, 1)
    response = world.web(world.staff["therapist"]).get("/schedule/", {"date": monday.isoformat()})
    assert response.status_code == 200 and b"/schedule/appointments/new/" not in response.content


def test_clicking_a_free_slot_opens_the_booking_form_for_that_chair_and_time(world):
    chair = ChairFactory(clinic=world.clinic_a)
    start = local(world.clinic_a, next_monday(world.clinic_a), 9)
    response = world.web(world.staff["front_desk"]).get(
        "/schedule/appointments/new/",
        {"chair": chair.pk, "start": start.isoformat()},
        headers={"HX-Request": "true"},
    )
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert f'<option value="{chair.pk}" selected>' in text
    assert start.strftime("%Y-%m-%dT%H:%M") in text


def test_booking_from_the_form_books_and_returns_to_the_day(world):
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    response = world.web(world.staff["front_desk"]).post(
        "/schedule/appointments/new/",
        {
            "course": course.pk,
            "chair": chair.pk,
            "starts_at": f"{monday.isoformat()}T09:00",
            "idempotency_key": "abc",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/schedule/?date={monday.isoformat()}"
    appointment = Appointment.objects.get()
    assert appointment.starts_at == local(world.clinic_a, monday, 9)


def test_a_refused_booking_shows_the_reason_on_the_form(world):
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    appointment_row(course, chair, local(world.clinic_a, monday, 9))
    response = world.web(world.staff["front_desk"]).post(
        "/schedule/appointments/new/",
        {"course": course.pk, "chair": chair.pk, "starts_at": f"{monday.isoformat()}T10:00"},
    )
    assert response.status_code == 422
    assert "is booked" in response.content.decode()


def test_a_prescriber_starts_a_course_from_the_patients_page(world):
    ready_for(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    client = world.web(world.staff["prescriber"])
    url = f"/schedule/patients/{world.patient_a.pk}/courses/new/"
    assert client.get(url).status_code == 200
    # the preview shows the proposed dates without booking
    monday = next_monday(world.clinic_a)
    form = {
        "protocol_id": "iv_induction_6x",
        "start_on": monday.isoformat(),
        "first_time": "09:00",
        "chair": chair.pk,
    }
    preview = client.get("/schedule/courses/preview/", form, headers={"HX-Request": "true"})
    assert preview.content.decode().count("<li") == 6 and Course.objects.count() == 0
    # and submitting books the course
    response = client.post(url, form)
    assert response.status_code == 302
    course = Course.objects.get()
    assert response["Location"] == f"/schedule/courses/{course.pk}/"
    assert course.appointments.count() == 6


def test_a_refused_course_shows_why_on_the_form(world):
    chair = ChairFactory(clinic=world.clinic_a)
    response = world.web(world.staff["prescriber"]).post(
        f"/schedule/patients/{world.patient_a.pk}/courses/new/",
        {
            "protocol_id": "iv_induction_6x",
            "start_on": next_monday(world.clinic_a).isoformat(),
            "first_time": "09:00",
            "chair": chair.pk,
        },
    )
    assert response.status_code == 422
    assert "There is no screening for the iv route" in response.content.decode()


def test_the_patient_page_loads_the_courses_card(world):
    response = world.web(world.staff["front_desk"]).get(f"/patients/{world.patient_a.pk}/")
    assert f'hx-get="/schedule/patients/{world.patient_a.pk}/courses/"'.encode() in response.content


@pytest.mark.parametrize("courses", [1, 6])
def test_the_patients_courses_card_has_a_fixed_query_budget(
    world, courses, django_assert_num_queries
):
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    for n in range(courses):
        course = course_row(world.patient_a, world.staff, status="completed", end_reason="done")
        for day in range(3):
            appointment_row(
                course, chair, local(world.clinic_a, monday + timedelta(days=7 * n + 2 * day), 9)
            )
    client = world.web(world.staff["nurse"])
    url = f"/schedule/patients/{world.patient_a.pk}/courses/"
    client.get(url)
    # session, user, memberships, tenancy guard, patient, courses, appointments (one query for
    # all), the audit append (5)
    with django_assert_num_queries(12):
        response = client.get(url, headers={"HX-Request": "true"})
    assert response.content.count(b'data-testid="course-') == courses


@pytest.mark.parametrize("sessions", [1, 6])
def test_the_course_page_has_a_fixed_query_budget(world, sessions, django_assert_num_queries):
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    for n in range(sessions):
        appointment_row(course, chair, local(world.clinic_a, monday + timedelta(days=2 * n), 9))
    client = world.web(world.staff["prescriber"])
    url = f"/schedule/courses/{course.pk}/"
    client.get(url)
    # session, user, memberships, tenancy guard, course (with patient, parent, screening), the
    # audit append (5), appointments (with chairs), chairs (booster form), booster courses
    with django_assert_num_queries(13):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b"/schedule/appointments/") >= sessions


def test_the_appointment_page_offers_check_in_to_the_front_desk(
    world, django_assert_max_num_queries
):
    course = course_row(world.patient_a, world.staff)
    appointment = appointment_row(course, ChairFactory(clinic=world.clinic_a), timezone.now())
    client = world.web(world.staff["front_desk"])
    url = f"/schedule/appointments/{appointment.pk}/"
    client.get(url)
    with django_assert_max_num_queries(16):
        response = client.get(url)
    text = response.content.decode()
    assert "Check in" in text and "Reschedule" in text and "Start session" not in text


def test_cancelling_from_the_page_keeps_the_reason(world):
    course = course_row(world.patient_a, world.staff)
    appointment = appointment_row(
        course,
        ChairFactory(clinic=world.clinic_a),
        local(world.clinic_a, next_monday(world.clinic_a), 9),
    )
    client = world.web(world.staff["front_desk"])
    missing = client.post(f"/schedule/appointments/{appointment.pk}/cancel/", {"version": 1})
    assert missing.status_code == 422
    done = client.post(
        f"/schedule/appointments/{appointment.pk}/cancel/", {"version": 1, "reason": "Snow"}
    )
    assert done.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == ("cancelled", "Snow")


def test_an_admin_adds_chairs_and_sets_hours(world):
    client = world.web(world.staff["admin"])
    assert client.get("/schedule/settings/").status_code == 200
    assert (
        client.post("/schedule/chairs/new/", {"room": "Cedar", "label": "Chair 1"}).status_code
        == 302
    )
    saved = client.post(
        "/schedule/settings/",
        {
            "open_weekdays": ["0", "1", "2", "3", "4", "5"],
            "opens_at": "07:30",
            "closes_at": "19:00",
            "slot_minutes": "15",
            "version": "1",
            "minutes_iv": "90",
        },
    )
    assert saved.status_code == 302
    from ketacare.scheduling.models import ClinicSchedule

    schedule = ClinicSchedule.objects.get(clinic=world.clinic_a)
    assert schedule.open_weekdays == [0, 1, 2, 3, 4, 5] and schedule.session_minutes == {"iv": 90}
