"""Booking, refusing, rescheduling, cancelling and moving appointments along their states."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Conflict, Refused
from ketacare.scheduling import services
from ketacare.scheduling.models import Appointment, AppointmentKind, AppointmentStatus, CourseKind
from tests.factories import PatientFactory
from tests.scheduling.factories import (
    ChairFactory,
    appointment_row,
    course_row,
    local,
    next_monday,
    open_every_day,
    ready_for,
)

pytestmark = pytest.mark.django_db


def actor(world, role="front_desk"):
    return Actor(user=world.staff[role], clinic=world.clinic_a, role=Role(role))


@pytest.fixture
def setup(world):
    """An active IV induction course (6 sessions), two chairs and the coming Monday."""
    course = course_row(world.patient_a, world.staff)
    chairs = [ChairFactory(clinic=world.clinic_a) for _ in range(2)]
    return course, chairs, next_monday(world.clinic_a)


def book(world, course, chair, starts_at, role="front_desk", **extra):
    return services.appointment_book(
        actor=actor(world, role),
        patient=course.patient,
        course=course,
        chair=chair,
        starts_at=starts_at,
        **extra,
    )


def refusal(world, course, chair, starts_at, **extra):
    before = Appointment.objects.count()
    with pytest.raises(Refused) as refused:
        book(world, course, chair, starts_at, **extra)
    assert Appointment.objects.count() == before
    return refused.value


# --- the protocol's limits ---------------------------------------------------------------------


def test_a_dose_booked_too_soon_after_the_last_is_refused_with_the_reason(world, setup):
    # given an infusion on Monday
    course, (chair, _), monday = setup
    book(world, course, chair, local(world.clinic_a, monday, 9))
    # when the front desk books the next one on Tuesday
    refused = refusal(world, course, chair, local(world.clinic_a, monday + timedelta(days=1), 9))
    # then it is refused, saying why and from when it would be allowed
    assert refused.code == "too_soon" and refused.field == "starts_at"
    assert "at least 2 days" in refused.message
    assert (monday + timedelta(days=2)).isoformat() in refused.message


def test_a_session_booked_between_two_others_must_respect_the_interval_to_both(world, setup):
    # given sessions on Monday and Thursday
    course, (chair, _), monday = setup
    book(world, course, chair, local(world.clinic_a, monday, 9))
    book(world, course, chair, local(world.clinic_a, monday + timedelta(days=3), 9))
    # when booking Wednesday (2 days after Monday, 1 day before Thursday)
    refused = refusal(world, course, chair, local(world.clinic_a, monday + timedelta(days=2), 9))
    # then the later session makes it too soon
    assert refused.code == "too_soon"
    assert (monday + timedelta(days=3)).isoformat() in refused.message


def test_too_many_sessions_in_a_week_are_refused(world, setup):
    # given Monday, Wednesday and Friday booked in a clinic open every day
    open_every_day(world.clinic_a)
    course, (chair, _), monday = setup
    for offset in (0, 2, 4):
        book(world, course, chair, local(world.clinic_a, monday + timedelta(days=offset), 9))
    # when a fourth is booked on Sunday, two days after Friday
    refused = refusal(world, course, chair, local(world.clinic_a, monday + timedelta(days=6), 9))
    # then
    assert refused.code == "too_many_in_week" and "at most 3" in refused.message


def test_a_session_beyond_the_course_is_refused_as_course_complete(world, setup):
    # given all six sessions booked
    course, (chair, _), monday = setup
    for offset in (0, 2, 4, 7, 9, 11):
        book(world, course, chair, local(world.clinic_a, monday + timedelta(days=offset), 9))
    # when a seventh is booked
    refused = refusal(world, course, chair, local(world.clinic_a, monday + timedelta(days=14), 9))
    # then
    assert refused.code == "course_complete" and "6 sessions" in refused.message


def test_a_session_in_a_completed_course_is_refused(world, setup):
    course, (chair, _), monday = setup
    course.status, course.end_reason = "completed", "done"
    course.save()
    assert refusal(world, course, chair, local(world.clinic_a, monday, 9)).code == (
        "course_complete"
    )


def test_cancelled_and_missed_sessions_do_not_count_toward_the_course(world, setup):
    # given a Monday session that was cancelled
    course, (chair, _), monday = setup
    first = book(world, course, chair, local(world.clinic_a, monday, 9))
    services.appointment_cancel(
        actor=actor(world), appointment=first, version=first.version, reason="patient unwell"
    )
    # then Tuesday is allowed: the cancelled Monday is not a session given
    assert book(world, course, chair, local(world.clinic_a, monday + timedelta(days=1), 9))


def test_a_session_right_after_another_course_on_the_same_route_is_too_soon(world, setup):
    # given an earlier (completed) course with a session on Monday
    course, (chair, other_chair), monday = setup
    earlier = course_row(world.patient_a, world.staff, status="completed", end_reason="done")
    appointment_row(earlier, other_chair, local(world.clinic_a, monday, 9), status="booked")
    # when this course books Tuesday
    refused = refusal(world, course, chair, local(world.clinic_a, monday + timedelta(days=1), 9))
    # then the protocol's interval holds across courses
    assert refused.code == "too_soon" and f"course {earlier.pk}" in refused.message


def test_no_session_is_booked_after_the_patient_withdrew_consent(world, setup):
    course, (chair, _), monday = setup
    course.consent.withdrawn_at, course.consent.withdrawn_reason = timezone.now(), "withdrew"
    course.consent.save()
    assert refusal(world, course, chair, local(world.clinic_a, monday, 9)).code == (
        "consent_withdrawn"
    )


# --- chairs, the patient, opening hours -----------------------------------------------------------


def test_double_booking_a_chair_is_refused_with_the_reason(world, setup):
    # given another patient's consultation in the chair at 09:30-10:00
    course, (chair, _), monday = setup
    other = PatientFactory(clinic=world.clinic_a)
    services.appointment_book(
        actor=actor(world),
        patient=other,
        chair=chair,
        kind=AppointmentKind.CONSULT,
        starts_at=local(world.clinic_a, monday, 9, 30),
    )
    # when a 70-minute session is booked at 09:00 in the same chair
    refused = refusal(world, course, chair, local(world.clinic_a, monday, 9))
    # then it is refused, naming the chair and the booking in the way
    assert refused.code == "chair_taken" and refused.field == "chair_id"
    assert str(chair) in refused.message and "09:30" in refused.message


def test_back_to_back_bookings_in_one_chair_are_allowed(world, setup):
    course, (chair, _), monday = setup
    book(world, course, chair, local(world.clinic_a, monday, 9))  # 09:00-10:10
    other = PatientFactory(clinic=world.clinic_a)
    services.appointment_book(
        actor=actor(world),
        patient=other,
        chair=chair,
        kind=AppointmentKind.CONSULT,
        starts_at=local(world.clinic_a, monday, 10, 10),
    )
    assert Appointment.objects.filter(chair=chair).count() == 2


def test_a_cancelled_booking_frees_its_chair(world, setup):
    course, (chair, _), monday = setup
    first = book(world, course, chair, local(world.clinic_a, monday, 9))
    services.appointment_cancel(
        actor=actor(world), appointment=first, version=first.version, reason="clinic closed"
    )
    other = PatientFactory(clinic=world.clinic_a)
    assert services.appointment_book(
        actor=actor(world),
        patient=other,
        chair=chair,
        kind=AppointmentKind.CONSULT,
        starts_at=local(world.clinic_a, monday, 9),
    )


def test_a_patient_cannot_be_in_two_chairs_at_once(world, setup):
    course, (chair, other_chair), monday = setup
    book(world, course, chair, local(world.clinic_a, monday, 9))
    with pytest.raises(Refused) as refused:
        services.appointment_book(
            actor=actor(world),
            patient=world.patient_a,
            chair=other_chair,
            kind=AppointmentKind.CONSULT,
            starts_at=local(world.clinic_a, monday, 9, 30),
        )
    assert refused.value.code == "patient_busy"


@pytest.mark.parametrize(
    ("day_offset", "hour", "minute"),
    [(5, 9, 0), (0, 7, 30), (0, 17, 30)],
    ids=["saturday", "before-opening", "ends-after-closing"],
)
def test_bookings_outside_opening_days_and_hours_are_refused(
    world, setup, day_offset, hour, minute
):
    course, (chair, _), monday = setup
    starts_at = local(world.clinic_a, monday + timedelta(days=day_offset), hour, minute)
    assert refusal(world, course, chair, starts_at).code == "clinic_closed"


def test_a_booking_in_the_past_is_refused(world, setup):
    course, (chair, _), monday = setup
    assert refusal(
        world, course, chair, local(world.clinic_a, monday, 9) - timedelta(days=14)
    ).code == ("in_the_past")


def test_a_treatment_session_needs_a_course(world, setup):
    _, (chair, _), monday = setup
    with pytest.raises(Refused) as refused:
        services.appointment_book(
            actor=actor(world),
            patient=world.patient_a,
            chair=chair,
            kind=AppointmentKind.TREATMENT,
            starts_at=local(world.clinic_a, monday, 9),
        )
    assert refused.value.code == "course_required"


def test_a_retried_booking_with_the_same_key_is_recorded_once(world, setup):
    course, (chair, _), monday = setup
    first = book(world, course, chair, local(world.clinic_a, monday, 9), idempotency_key="k-1")
    again = book(world, course, chair, local(world.clinic_a, monday, 9), idempotency_key="k-1")
    assert again.pk == first.pk and Appointment.objects.count() == 1


def test_a_therapist_cannot_book(world, setup):
    course, (chair, _), monday = setup
    with pytest.raises(PermissionDenied):
        book(world, course, chair, local(world.clinic_a, monday, 9), role="therapist")


# --- boosters -------------------------------------------------------------------------------------


def test_booster_sessions_are_the_prescribers_to_add(world, setup):
    course, (chair, _), monday = setup
    with pytest.raises(PermissionDenied):
        book(world, course, chair, local(world.clinic_a, monday, 9), kind=AppointmentKind.BOOSTER)


def test_a_booster_added_to_a_full_fixed_course_is_refused_as_course_complete(world, setup):
    course, (chair, _), monday = setup
    for offset in (0, 2, 4, 7, 9, 11):
        book(world, course, chair, local(world.clinic_a, monday + timedelta(days=offset), 9))
    with pytest.raises(Refused) as refused:
        services.course_add_booster(
            actor=actor(world, "prescriber"),
            course=course,
            chair=chair,
            starts_at=local(world.clinic_a, monday + timedelta(days=21), 9),
        )
    assert refused.value.code == "course_complete"


def test_a_booster_added_to_a_shortened_course_extends_its_plan(world, setup):
    # given a course the clinic planned at four sessions, all booked
    course, (chair, _), monday = setup
    course.planned_sessions = 4
    course.save()
    for offset in (0, 2, 4, 7):
        book(world, course, chair, local(world.clinic_a, monday + timedelta(days=offset), 9))
    # when the prescriber adds a booster (the protocol allows six)
    booster = services.course_add_booster(
        actor=actor(world, "prescriber"),
        course=course,
        chair=chair,
        starts_at=local(world.clinic_a, monday + timedelta(days=14), 9),
    )
    # then it is booked as a booster and the plan grows to five
    course.refresh_from_db()
    assert booster.kind == AppointmentKind.BOOSTER and course.planned_sessions == 5


def test_a_booster_course_follows_a_completed_course(world, setup):
    # given a completed induction course
    course, (chair, _), monday = setup
    ready_for(world.patient_a, world.staff)
    course.status, course.end_reason = "completed", "All sessions completed."
    course.save()
    # when the prescriber starts a booster course of two boosters
    booster = services.booster_course_start(
        actor=actor(world, "prescriber"),
        parent=course,
        protocol_id="iv_booster",
        start_on=monday,
        chair=chair,
        first_time=time(9),
        sessions=2,
    )
    # then a booster course points back to its parent, its sessions a week apart
    sessions = list(booster.appointments.order_by("starts_at"))
    assert (booster.kind, booster.parent_id) == (CourseKind.BOOSTER, course.pk)
    assert [s.kind for s in sessions] == [AppointmentKind.BOOSTER] * 2
    assert sessions[1].starts_at - sessions[0].starts_at >= timedelta(days=7)


def test_a_booster_course_cannot_start_while_its_parent_is_active(world, setup):
    course, (chair, _), monday = setup
    with pytest.raises(Refused) as refused:
        services.booster_course_start(
            actor=actor(world, "prescriber"),
            parent=course,
            protocol_id="iv_booster",
            start_on=monday,
            chair=chair,
            first_time=time(9),
            sessions=1,
        )
    assert refused.value.code == "parent_active"


def test_a_booster_course_too_soon_after_the_parents_last_session_is_refused(world, setup):
    # given a completed course whose last session is on Monday
    course, (chair, _), monday = setup
    ready_for(world.patient_a, world.staff)
    appointment_row(course, chair, local(world.clinic_a, monday, 9), status="booked")
    course.status, course.end_reason = "completed", "done"
    course.save()
    # when a booster course starts on Wednesday (the booster protocol needs 7 days)
    with pytest.raises(Refused) as refused:
        services.booster_course_start(
            actor=actor(world, "prescriber"),
            parent=course,
            protocol_id="iv_booster",
            start_on=monday + timedelta(days=2),
            chair=chair,
            first_time=time(11),
            sessions=1,
        )
    assert refused.value.code == "too_soon"


# --- reschedule and cancel ------------------------------------------------------------------------


def test_rescheduling_keeps_the_old_booking_cancelled_and_links_the_new_one(world, setup):
    # given sessions on Monday and Friday
    course, (chair, other_chair), monday = setup
    book(world, course, chair, local(world.clinic_a, monday, 9))
    friday = book(world, course, chair, local(world.clinic_a, monday + timedelta(days=4), 9))
    # when Friday moves to Thursday afternoon in the other chair
    moved = services.appointment_reschedule(
        actor=actor(world),
        appointment=friday,
        version=friday.version,
        starts_at=local(world.clinic_a, monday + timedelta(days=3), 14),
        chair=other_chair,
        reason="Patient asked for Thursday",
    )
    # then the old booking is cancelled as rescheduled and the new one points back to it
    friday.refresh_from_db()
    assert (friday.status, friday.cancel_reason) == (AppointmentStatus.CANCELLED, "rescheduled")
    assert moved.rescheduled_from_id == friday.pk
    assert moved.reschedule_reason == "Patient asked for Thursday"
    assert (moved.chair_id, moved.course_id, moved.status) == (other_chair.pk, course.pk, "booked")


def test_rescheduling_a_session_too_close_to_another_is_refused_and_changes_nothing(world, setup):
    course, (chair, _), monday = setup
    book(world, course, chair, local(world.clinic_a, monday, 9))
    friday = book(world, course, chair, local(world.clinic_a, monday + timedelta(days=4), 9))
    with pytest.raises(Refused) as refused:
        services.appointment_reschedule(
            actor=actor(world),
            appointment=friday,
            version=friday.version,
            starts_at=local(world.clinic_a, monday + timedelta(days=1), 9),
            reason="earlier",
        )
    friday.refresh_from_db()
    assert refused.value.code == "too_soon" and friday.status == AppointmentStatus.BOOKED


def test_rescheduling_needs_a_reason(world, setup):
    course, (chair, _), monday = setup
    first = book(world, course, chair, local(world.clinic_a, monday, 9))
    with pytest.raises(Refused) as refused:
        services.appointment_reschedule(
            actor=actor(world),
            appointment=first,
            version=first.version,
            starts_at=local(world.clinic_a, monday, 11),
            reason="  ",
        )
    assert refused.value.field == "reason"


def test_rescheduling_from_a_stale_version_is_refused(world, setup):
    course, (chair, _), monday = setup
    first = book(world, course, chair, local(world.clinic_a, monday, 9))
    with pytest.raises(Conflict):
        services.appointment_reschedule(
            actor=actor(world),
            appointment=first,
            version=first.version + 1,
            starts_at=local(world.clinic_a, monday, 11),
            reason="later",
        )


def test_cancelling_keeps_the_reason(world, setup):
    course, (chair, _), monday = setup
    first = book(world, course, chair, local(world.clinic_a, monday, 9))
    cancelled = services.appointment_cancel(
        actor=actor(world), appointment=first, version=first.version, reason="Flu"
    )
    assert (cancelled.status, cancelled.cancel_reason, cancelled.version) == ("cancelled", "Flu", 2)


def test_cancelling_without_a_reason_or_from_a_stale_version_is_refused(world, setup):
    course, (chair, _), monday = setup
    first = book(world, course, chair, local(world.clinic_a, monday, 9))
    with pytest.raises(Refused):
        services.appointment_cancel(
            actor=actor(world), appointment=first, version=first.version, reason=""
        )
    with pytest.raises(Conflict):
        services.appointment_cancel(actor=actor(world), appointment=first, version=9, reason="x")


def test_stopping_a_course_cancels_its_future_bookings_with_the_reason(world, setup):
    course, (chair, _), monday = setup
    first = book(world, course, chair, local(world.clinic_a, monday, 9))
    stopped = services.course_stop(
        actor=actor(world, "prescriber"),
        course=course,
        version=course.version,
        reason="Adverse reaction",
    )
    first.refresh_from_db()
    assert (stopped.status, stopped.end_reason) == ("stopped", "Adverse reaction")
    assert first.status == "cancelled" and "Adverse reaction" in first.cancel_reason


# --- the state machine ----------------------------------------------------------------------------


@pytest.fixture
def today_session(world, setup):
    """A session booked today (made directly, as if booked earlier)."""
    course, (chair, _), _ = setup
    return appointment_row(course, chair, timezone.now() - timedelta(minutes=5))


def test_front_desk_checks_in_and_clinicians_run_the_session(world, today_session):
    arrived = services.appointment_set_status(
        actor=actor(world), appointment=today_session, status="arrived"
    )
    with pytest.raises(PermissionDenied):
        services.appointment_set_status(
            actor=actor(world), appointment=arrived, status="in_session"
        )
    running = services.appointment_set_status(
        actor=actor(world, "nurse"), appointment=arrived, status="in_session"
    )
    done = services.appointment_set_status(
        actor=actor(world, "nurse"), appointment=running, status="completed"
    )
    assert done.status == AppointmentStatus.COMPLETED and done.version == 4


def test_a_booked_appointment_cannot_jump_to_completed(world, today_session):
    with pytest.raises(Refused) as refused:
        services.appointment_set_status(
            actor=actor(world, "nurse"), appointment=today_session, status="completed"
        )
    assert refused.value.code == "invalid_transition"


def test_a_session_under_way_cannot_be_cancelled(world, today_session):
    arrived = services.appointment_set_status(
        actor=actor(world), appointment=today_session, status="arrived"
    )
    running = services.appointment_set_status(
        actor=actor(world, "nurse"), appointment=arrived, status="in_session"
    )
    with pytest.raises(Refused) as refused:
        services.appointment_cancel(
            actor=actor(world), appointment=running, version=running.version, reason="x"
        )
    assert refused.value.code == "not_cancellable"


def test_nobody_checks_in_before_the_appointments_day(world, setup):
    course, (chair, _), monday = setup
    later = book(world, course, chair, local(world.clinic_a, monday, 9))
    with pytest.raises(Refused) as refused:
        services.appointment_set_status(actor=actor(world), appointment=later, status="arrived")
    assert refused.value.code == "not_yet"


def test_completing_the_last_planned_session_completes_the_course(world, setup):
    # given a course planned at one session, booked today
    course, (chair, _), _ = setup
    course.planned_sessions = 1
    course.save()
    session = appointment_row(course, chair, timezone.now() - timedelta(minutes=1))
    nurse = actor(world, "nurse")
    for status in ("arrived", "in_session", "completed"):
        session = services.appointment_set_status(actor=nurse, appointment=session, status=status)
    course.refresh_from_db()
    assert course.status == "completed" and "1 planned" in course.end_reason
