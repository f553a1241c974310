"""What course and appointment writes share: the state machine, locks, protocol checks, replays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import User
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.protocols import (
    TOO_SOON,
    Protocol,
    check_session,
)
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_lock_for_write
from ketacare.scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Chair,
    Course,
    CourseStatus,
)
from ketacare.scheduling.selectors import (
    SlotProblem,
    clinic_zone,
    course_session_days,
    local_date,
    other_course_sessions,
)

# The appointment state machine: from a status, the statuses it may move to and the
# permission each move needs. Front desk checks patients in and records no-shows; the
# session (dosing and monitoring) is the clinicians'. Cancelling (`appointment_cancel`)
# is allowed from booked and arrived only: once a session is under way it must complete,
# so a dose given always counts toward the course. A session ended before any dose (blood
# pressure too high, the patient left) moves to "not dosed": it frees the chair and does not
# count toward the course or its intervals.
APPOINTMENT_TRANSITIONS: dict[str, dict[str, Permission]] = {
    AppointmentStatus.BOOKED: {
        AppointmentStatus.ARRIVED: Permission.SCHEDULE_MANAGE,
        AppointmentStatus.NO_SHOW: Permission.SCHEDULE_MANAGE,
    },
    AppointmentStatus.ARRIVED: {
        AppointmentStatus.IN_SESSION: Permission.SESSION_RUN,
        AppointmentStatus.NOT_DOSED: Permission.SESSION_RUN,
    },
    AppointmentStatus.IN_SESSION: {
        AppointmentStatus.COMPLETED: Permission.SESSION_RUN,
        AppointmentStatus.NOT_DOSED: Permission.SESSION_RUN,
    },
}
CANCELLABLE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
RESCHEDULED = "rescheduled"

# Chair time of appointments that are not sessions, when none is given: operational
# defaults for the calendar, not clinical numbers.
DEFAULT_MINUTES = {AppointmentKind.CONSULT: 30, AppointmentKind.INTEGRATION: 60}
MAX_REASON = 500


# --- helpers ------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now if now is not None else clock.now()


def _reason(reason: str, *, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise Refused("Give a reason.", field=field, code="reason_required")
    if len(text) > MAX_REASON:
        raise Refused(f"Keep the reason under {MAX_REASON} characters.", field=field)
    return text


def _same_clinic(actor: Actor, *records: Any) -> None:
    for record in records:
        if record is not None and record.clinic_id != actor.clinic_id:
            raise Http404(f"{type(record).__name__} not found.")


def _lock_patient(patient: Patient) -> None:
    # Bookings for one patient queue behind each other; a chart merged into another is refused.
    patient_lock_for_write(clinic_id=patient.clinic_id, patient_id=patient.pk)


def _lock_course(course: Course) -> Course:
    return Course.objects.select_for_update().get(pk=course.pk, clinic_id=course.clinic_id)


def _lock_chairs(chairs: list[Chair | None]) -> None:
    ids = sorted({chair.pk for chair in chairs if chair is not None})
    if ids:
        list(Chair.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def _lock_therapist(therapist: User | None) -> None:
    # Two bookings with one therapist queue behind each other, like two bookings of one chair;
    # taken after the chairs, so the lock order stays fixed.
    if therapist is not None:
        list(User.objects.select_for_update().filter(pk=therapist.pk).values_list("pk"))


def _raise_first(problems: list[SlotProblem]) -> None:
    if problems:
        first = problems[0]
        raise Refused(" ".join(p.message for p in problems), field=first.field, code=first.code)


def _check_protocol(
    *,
    course: Course,
    protocol: Protocol,
    starts_at: datetime,
    exclude_ids: list[int],
    sessions_in_course: int | None,
) -> None:
    """Refuse a session the protocol forbids: too soon, too many in the week, course complete.

    The course's booked, in-progress and completed sessions are the core's `past_sessions`;
    the core looks both ways, so a session booked between two others respects both.
    """
    if course.status != CourseStatus.ACTIVE:
        raise Refused(
            f"Course {course.pk} is {course.get_status_display().lower()}; start a new course "
            "or a booster course.",
            field="course_id",
            code="course_complete",
        )
    zone = clinic_zone(course.clinic)
    day = local_date(starts_at, zone)
    past = course_session_days(course=course, zone=zone, exclude_ids=exclude_ids)
    check = check_session(protocol, day, past, sessions_in_course=sessions_in_course)
    if not check.allowed:
        raise Refused(check.reason, field="starts_at", code=check.code)
    problem = _too_soon_after_other_courses(
        clinic_id=course.clinic_id,
        patient_id=course.patient_id,
        protocol=protocol,
        day=day,
        zone=zone,
        exclude_course_id=course.pk,
        exclude_ids=exclude_ids,
    )
    if problem:
        raise Refused(problem, field="starts_at", code=TOO_SOON)


def _too_soon_after_other_courses(
    *,
    clinic_id: int,
    patient_id: int,
    protocol: Protocol,
    day: date,
    zone: ZoneInfo,
    exclude_course_id: int | None,
    exclude_ids: Sequence[int] = (),
) -> str:
    """The protocol's interval also holds against the patient's sessions on the same route in
    other courses (a booster course right after an induction): the core judges the nearest."""
    others = other_course_sessions(
        clinic_id=clinic_id,
        patient_id=patient_id,
        route=protocol.route,
        zone=zone,
        exclude_course_id=exclude_course_id,
        exclude_ids=exclude_ids,
    )
    if not others:
        return ""
    nearest, other_course = min(others, key=lambda other: abs((other[0] - day).days))
    across = check_session(protocol, day, [nearest])
    if across.allowed or across.code != TOO_SOON:
        return ""
    return f"{across.reason} (in course {other_course})."


def _create_appointment(
    *,
    actor: Actor,
    patient: Patient,
    course: Course | None,
    chair: Chair | None,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    idempotency_key: str = "",
    rescheduled_from: Appointment | None = None,
    reschedule_reason: str = "",
    therapist: User | None = None,
) -> Appointment:
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                clinic_id=actor.clinic_id,
                patient=patient,
                course=course,
                chair=chair,
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
                created_by=actor.user,
                idempotency_key=idempotency_key,
                rescheduled_from=rescheduled_from,
                reschedule_reason=reschedule_reason,
                therapist=therapist,
            )
    except IntegrityError as exc:  # the same submission racing itself
        raise Conflict(
            "This booking was already submitted; reload to see it.", field="idempotency_key"
        ) from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="appointment",
        object_id=appointment.pk,
        patient_id=patient.pk,
        detail={
            "kind": kind,
            "course_id": course.pk if course else None,
            "chair_id": chair.pk if chair else None,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "rescheduled_from": rescheduled_from.pk if rescheduled_from else None,
            "therapist_id": therapist.pk if therapist else None,
        },
    )
    return appointment
