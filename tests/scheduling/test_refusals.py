"""Scheduling refusals each triggered and asserted by code (every code a service can raise)."""

from datetime import timedelta

import pytest

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Refused
from ketacare.scheduling import services
from ketacare.scheduling.models import Appointment, CourseStatus
from tests.scheduling.factories import (
    ChairFactory,
    appointment_row,
    course_row,
    local,
    next_monday,
    open_every_day,
)

pytestmark = pytest.mark.django_db


def actor(world, role):
    return Actor(user=world.staff[role], clinic=world.clinic_a, role=Role(role))


@pytest.fixture
def booked(world):
    """An active IV course with one booked session next Monday at 09:00 in an open clinic."""
    open_every_day(world.clinic_a)
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    appointment = appointment_row(course, chair, local(world.clinic_a, monday, 9))
    return course, chair, appointment, monday


def test_putting_a_chair_with_upcoming_bookings_out_of_use_is_refused_chair_in_use(world, booked):
    _, chair, _, _ = booked
    with pytest.raises(Refused) as refused:
        services.chair_set_active(actor=actor(world, "admin"), chair=chair, is_active=False)
    assert (refused.value.code, refused.value.field) == ("chair_in_use", "is_active")
    chair.refresh_from_db()
    assert chair.is_active


def test_booking_a_chair_that_is_out_of_use_is_refused_chair_inactive(world, booked):
    course, _, _, monday = booked
    spare = ChairFactory(clinic=world.clinic_a, is_active=False)
    before = Appointment.objects.count()
    with pytest.raises(Refused) as refused:
        services.appointment_book(
            actor=actor(world, "front_desk"),
            patient=course.patient,
            course=course,
            chair=spare,
            starts_at=local(world.clinic_a, monday + timedelta(days=3), 9),
        )
    assert (refused.value.code, refused.value.field) == ("chair_inactive", "chair_id")
    assert Appointment.objects.count() == before


def test_stopping_a_course_that_is_not_active_is_refused_course_not_active(world):
    course = course_row(world.patient_a, world.staff, status=CourseStatus.STOPPED, end_reason="x")
    with pytest.raises(Refused) as refused:
        services.course_stop(
            actor=actor(world, "prescriber"),
            course=course,
            version=course.version,
            reason="Patient moved away.",
        )
    assert (refused.value.code, refused.value.field) == ("course_not_active", "status")


def test_stopping_a_course_without_a_reason_is_refused_reason_required(world):
    course = course_row(world.patient_a, world.staff)
    with pytest.raises(Refused) as refused:
        services.course_stop(
            actor=actor(world, "prescriber"), course=course, version=course.version, reason="  "
        )
    assert (refused.value.code, refused.value.field) == ("reason_required", "reason")
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_rescheduling_an_appointment_that_is_not_booked_is_refused_not_reschedulable(world, booked):
    course, chair, _, monday = booked
    attended = appointment_row(
        course, chair, local(world.clinic_a, monday + timedelta(days=2), 9), status="attended"
    )
    with pytest.raises(Refused) as refused:
        services.appointment_reschedule(
            actor=actor(world, "front_desk"),
            appointment=attended,
            version=attended.version,
            starts_at=local(world.clinic_a, monday + timedelta(days=4), 9),
            reason="Patient asked to move it.",
        )
    assert (refused.value.code, refused.value.field) == ("not_reschedulable", "status")
