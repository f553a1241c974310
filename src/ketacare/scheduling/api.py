"""The scheduling API: courses, appointments, chairs, schedule proposals and settings.

Thin: each operation is guarded by one permission, parses, and calls the same services and
selectors as the pages.
"""

from datetime import date, time, timedelta

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status
from pydantic import AwareDatetime, Field, model_validator

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.clinical.protocols import load_protocols
from ketacare.kernel.bounds import BoundedIn
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.scheduling import selectors, services
from ketacare.scheduling.models import Appointment, Chair, ClinicSchedule, Course
from ketacare.scheduling.schemas import (
    AppointmentIn,
    AppointmentOut,
    BoosterCourseIn,
    BoosterIn,
    CancelIn,
    ChairIn,
    ChairOut,
    ClinicScheduleIn,
    ClinicScheduleOut,
    CourseOut,
    CourseStartIn,
    CourseStopIn,
    FeedOut,
    ProposalOut,
    RescheduleIn,
    StatusIn,
)

router = Router(tags=["scheduling"])

MAX_RANGE_DAYS = 31


def _chair(request: HttpRequest, chair_id: int | None) -> Chair | None:
    if chair_id is None:
        return None
    return selectors.chair_get_for_actor(actor=api_actor(request), chair_id=chair_id)


def _course_out(request: HttpRequest, course_id: int) -> Course:
    return selectors.course_get_for_actor(
        actor=api_actor(request), course_id=course_id, audit=False
    )


# --- courses ------------------------------------------------------------------------------------


class CourseListParams(BoundedIn):
    patient_id: int = Field(ge=1)


@operation(router.get, "/courses", Permission.SCHEDULE_VIEW, response=list[CourseOut])
def list_courses(request: HttpRequest, params: Query[CourseListParams]) -> list[Course]:
    """A patient's courses, newest first, each with its appointments."""
    actor = api_actor(request)
    patient = patient_get_for_actor(actor=actor, patient_id=params.patient_id, audit=False)
    return selectors.courses_of_patient(actor=actor, patient=patient)


@operation(router.post, "/courses", Permission.COURSE_MANAGE, response={201: CourseOut})
def start_course(request: HttpRequest, payload: CourseStartIn) -> Status[Course]:
    """Start a course: the protocol's proposed sessions are booked in one chair at one time.

    Refused (422, with the reason and a `code`) without a current signed screening that
    allows treatment and a current consent for the route, or if any session cannot be booked.
    """
    actor = api_actor(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=payload.patient_id, permission=Permission.COURSE_MANAGE, audit=False
    )
    chair = selectors.chair_get_for_actor(actor=actor, chair_id=payload.chair_id)
    course = services.course_start(
        actor=actor,
        patient=patient,
        protocol_id=payload.protocol_id,
        start_on=payload.start_on,
        chair=chair,
        first_time=payload.first_time,
        sessions=payload.sessions,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201, _course_out(request, course.pk))


@operation(router.get, "/courses/{course_id}", Permission.SCHEDULE_VIEW, response=CourseOut)
def get_course(request: HttpRequest, course_id: int) -> Course:
    """One course of your clinic with its appointments."""
    return selectors.course_get_for_actor(actor=api_actor(request), course_id=course_id)


@operation(router.post, "/courses/{course_id}/stop", Permission.COURSE_MANAGE, response=CourseOut)
def stop_course(request: HttpRequest, course_id: int, payload: CourseStopIn) -> Course:
    """Stop an active course with a reason; its future bookings are cancelled."""
    actor = api_actor(request)
    course = selectors.course_get_for_actor(
        actor=actor, course_id=course_id, permission=Permission.COURSE_MANAGE, audit=False
    )
    services.course_stop(actor=actor, course=course, version=payload.version, reason=payload.reason)
    return _course_out(request, course_id)


@operation(
    router.post,
    "/courses/{course_id}/boosters",
    Permission.COURSE_MANAGE,
    response={201: AppointmentOut},
)
def add_booster(request: HttpRequest, course_id: int, payload: BoosterIn) -> Status[Appointment]:
    """Add a booster session to an active course, as its protocol allows."""
    actor = api_actor(request)
    course = selectors.course_get_for_actor(
        actor=actor, course_id=course_id, permission=Permission.COURSE_MANAGE, audit=False
    )
    chair = selectors.chair_get_for_actor(actor=actor, chair_id=payload.chair_id)
    appointment = services.course_add_booster(
        actor=actor,
        course=course,
        chair=chair,
        starts_at=payload.starts_at,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201, _appointment(request, appointment.pk))


@operation(
    router.post,
    "/courses/{course_id}/booster-courses",
    Permission.COURSE_MANAGE,
    response={201: CourseOut},
)
def start_booster_course(
    request: HttpRequest, course_id: int, payload: BoosterCourseIn
) -> Status[Course]:
    """Start a booster course after this completed or stopped course, on the same route."""
    actor = api_actor(request)
    parent = selectors.course_get_for_actor(
        actor=actor, course_id=course_id, permission=Permission.COURSE_MANAGE, audit=False
    )
    chair = selectors.chair_get_for_actor(actor=actor, chair_id=payload.chair_id)
    course = services.booster_course_start(
        actor=actor,
        parent=parent,
        protocol_id=payload.protocol_id,
        start_on=payload.start_on,
        chair=chair,
        first_time=payload.first_time,
        sessions=payload.sessions,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201, _course_out(request, course.pk))


class ProposalParams(BoundedIn):
    protocol_id: str = Field(max_length=64)
    start_on: date
    sessions: int | None = Field(None, ge=1, le=60)
    chair_id: int | None = Field(None, ge=1)
    first_time: time | None = None
    patient_id: int | None = Field(None, ge=1)


@operation(router.get, "/schedule/proposal", Permission.SCHEDULE_VIEW, response=ProposalOut)
def schedule_proposal(request: HttpRequest, params: Query[ProposalParams]) -> dict[str, object]:
    """Preview a course without booking: the proposed days and, given a chair and a time,
    whether each session can be booked (and why not)."""
    actor = api_actor(request)
    patient_id = None
    if params.patient_id is not None:
        patient_id = patient_get_for_actor(
            actor=actor, patient_id=params.patient_id, audit=False
        ).pk
    proposal = selectors.schedule_proposal(
        actor=actor,
        protocol_id=params.protocol_id,
        start_on=params.start_on,
        sessions=params.sessions,
        chair=_chair(request, params.chair_id),
        first_time=params.first_time,
        patient_id=patient_id,
    )
    return {
        "protocol_id": proposal.protocol.id,
        "protocol_version": proposal.protocol.version,
        "session_minutes": proposal.session_minutes,
        "bookable": proposal.bookable,
        "sessions": [
            {
                "number": s.number,
                "day": s.day,
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "bookable": s.bookable,
                "problems": [vars(p) for p in s.problems],
            }
            for s in proposal.sessions
        ],
    }


# --- appointments -------------------------------------------------------------------------------


def _appointment(request: HttpRequest, appointment_id: int) -> Appointment:
    return selectors.appointment_get_for_actor(
        actor=api_actor(request), appointment_id=appointment_id, audit=False
    )


class AppointmentListParams(BoundedIn):
    day: date | None = Field(None, description="A clinic-local day; or give start and end.")
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    patient_id: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _a_day_or_a_range(self) -> "AppointmentListParams":
        if self.day is None and (self.start is None or self.end is None):
            raise ValueError("give a day, or a start and an end")
        if self.start is not None and self.end is not None:
            if self.end <= self.start:
                raise ValueError("end must be after start")
            if self.end - self.start > timedelta(days=MAX_RANGE_DAYS):
                raise ValueError(f"a range of at most {MAX_RANGE_DAYS} days")
        return self


@operation(router.get, "/appointments", Permission.SCHEDULE_VIEW, response=list[AppointmentOut])
def list_appointments(
    request: HttpRequest, params: Query[AppointmentListParams]
) -> list[Appointment]:
    """Appointments on a clinic-local day or overlapping a range (at most 31 days)."""
    actor = api_actor(request)
    if params.day is not None:
        zone = selectors.clinic_zone(actor.clinic)
        start = selectors.at_local(params.day, time(0), zone)
        end = selectors.at_local(params.day + timedelta(days=1), time(0), zone)
    else:
        start, end = params.start, params.end  # type: ignore[assignment]
    if params.patient_id is not None:
        patient_get_for_actor(actor=actor, patient_id=params.patient_id, audit=False)
    return selectors.appointments_in_range(
        actor=actor, start=start, end=end, patient_id=params.patient_id
    )


@operation(router.post, "/appointments", Permission.SCHEDULE_MANAGE, response={201: AppointmentOut})
def book_appointment(request: HttpRequest, payload: AppointmentIn) -> Status[Appointment]:
    """Book an appointment. A session of a course is refused (422, with `code`) if the chair is
    taken (`chair_taken`) or the protocol forbids it (`too_soon`, `too_many_in_week`,
    `course_complete`). An integration session names its therapist (`therapist_required`,
    `therapist_busy`); another clinic's therapist is not found (404)."""
    actor = api_actor(request)
    patient = patient_get_for_actor(actor=actor, patient_id=payload.patient_id, audit=False)
    course = None
    if payload.course_id is not None:
        course = selectors.course_get_for_actor(
            actor=actor, course_id=payload.course_id, audit=False
        )
    therapist = None
    if payload.therapist_id is not None:  # another clinic's therapist, or not one: 404
        therapist = selectors.therapist_get_for_actor(
            actor=actor, therapist_id=payload.therapist_id
        )
    appointment = services.appointment_book(
        actor=actor,
        patient=patient,
        starts_at=payload.starts_at,
        chair=_chair(request, payload.chair_id),
        course=course,
        kind=payload.kind,
        minutes=payload.minutes,
        idempotency_key=payload.idempotency_key,
        therapist=therapist,
    )
    return Status(201, _appointment(request, appointment.pk))


@operation(
    router.get, "/appointments/{appointment_id}", Permission.SCHEDULE_VIEW, response=AppointmentOut
)
def get_appointment(request: HttpRequest, appointment_id: int) -> Appointment:
    """One appointment of your clinic."""
    return selectors.appointment_get_for_actor(
        actor=api_actor(request), appointment_id=appointment_id
    )


@operation(
    router.post,
    "/appointments/{appointment_id}/reschedule",
    Permission.SCHEDULE_MANAGE,
    response=AppointmentOut,
)
def reschedule_appointment(
    request: HttpRequest, appointment_id: int, payload: RescheduleIn
) -> Appointment:
    """Move a booked appointment; returns the new one (the old one is cancelled "rescheduled")."""
    actor = api_actor(request)
    appointment = selectors.appointment_get_for_actor(
        actor=actor, appointment_id=appointment_id, audit=False
    )
    moved = services.appointment_reschedule(
        actor=actor,
        appointment=appointment,
        version=payload.version,
        starts_at=payload.starts_at,
        reason=payload.reason,
        chair=_chair(request, payload.chair_id),
    )
    return _appointment(request, moved.pk)


@operation(
    router.post,
    "/appointments/{appointment_id}/cancel",
    Permission.SCHEDULE_MANAGE,
    response=AppointmentOut,
)
def cancel_appointment(request: HttpRequest, appointment_id: int, payload: CancelIn) -> Appointment:
    """Cancel a booked or checked-in appointment with a reason."""
    actor = api_actor(request)
    appointment = selectors.appointment_get_for_actor(
        actor=actor, appointment_id=appointment_id, audit=False
    )
    services.appointment_cancel(
        actor=actor, appointment=appointment, version=payload.version, reason=payload.reason
    )
    return _appointment(request, appointment_id)


@operation(
    router.post,
    "/appointments/{appointment_id}/status",
    Permission.SCHEDULE_MANAGE,
    response=AppointmentOut,
)
def set_appointment_status(
    request: HttpRequest, appointment_id: int, payload: StatusIn
) -> Appointment:
    """Check in (arrived) or record a no-show; clinicians also move it to in session and
    completed (those need `session.run`)."""
    actor = api_actor(request)
    appointment = selectors.appointment_get_for_actor(
        actor=actor, appointment_id=appointment_id, audit=False
    )
    services.appointment_set_status(
        actor=actor, appointment=appointment, status=payload.status, version=payload.version
    )
    return _appointment(request, appointment_id)


# --- chairs, settings and the feed --------------------------------------------------------------


@operation(router.get, "/chairs", Permission.SCHEDULE_VIEW, response=list[ChairOut])
def list_chairs(request: HttpRequest) -> list[Chair]:
    """The clinic's chairs in use, by room."""
    return selectors.chairs_of_clinic(actor=api_actor(request))


@operation(router.post, "/chairs", Permission.CLINIC_MANAGE, response={201: ChairOut})
def create_chair(request: HttpRequest, payload: ChairIn) -> Status[Chair]:
    """Add a chair to a room (clinic admins)."""
    return Status(
        201, services.chair_create(actor=api_actor(request), room=payload.room, label=payload.label)
    )


def _schedule_out(schedule: ClinicSchedule) -> dict[str, object]:
    effective: dict[str, int] = {}
    for protocol in load_protocols().values():
        minutes = selectors.session_minutes_for(schedule=schedule, protocol=protocol)
        effective[protocol.route] = max(effective.get(protocol.route, 0), minutes)
    return {
        "open_weekdays": schedule.open_weekdays,
        "opens_at": schedule.opens_at,
        "closes_at": schedule.closes_at,
        "slot_minutes": schedule.slot_minutes,
        "session_minutes": schedule.session_minutes,
        "effective_session_minutes": effective,
        "version": schedule.version,
    }


@operation(router.get, "/schedule/settings", Permission.SCHEDULE_VIEW, response=ClinicScheduleOut)
def get_schedule_settings(request: HttpRequest) -> dict[str, object]:
    """Opening days and hours, calendar slot, and chair time per route (with protocol minimums)."""
    return _schedule_out(selectors.clinic_schedule_for(clinic=api_actor(request).clinic))


@operation(router.put, "/schedule/settings", Permission.CLINIC_MANAGE, response=ClinicScheduleOut)
def put_schedule_settings(request: HttpRequest, payload: ClinicScheduleIn) -> dict[str, object]:
    """Change the schedule settings (admins); chair time per route never below its protocols'."""
    schedule = services.clinic_schedule_update(
        actor=api_actor(request),
        version=payload.version,
        open_weekdays=payload.open_weekdays,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        slot_minutes=payload.slot_minutes,
        session_minutes=payload.session_minutes,
    )
    return _schedule_out(schedule)


@operation(router.post, "/schedule/feed", Permission.CLINIC_MANAGE, response={201: FeedOut})
def rotate_feed(request: HttpRequest) -> Status[dict[str, str]]:
    """Issue a new secret iCalendar feed URL for staff calendars; the previous URL stops working.

    The URL is shown once: only its token's hash is kept."""
    token = services.calendar_feed_rotate(actor=api_actor(request))
    url = request.build_absolute_uri(reverse("schedule_feed")) + f"?token={token}"
    return Status(201, {"url": url})
