"""Writes to chairs, courses and appointments: each one transactional, audited, version-checked.

Double-booking: every write that puts an appointment in a chair locks the chair row
(`select_for_update`) before looking for overlaps, so two simultaneous bookings of one chair
queue and the second sees the first. Course writes also lock the patient and the course, so
two bookings cannot both pass the protocol's limits. Locks are always taken in the order
patient, course, chair(s) by id, appointment, so writers never deadlock.

Rescheduling keeps history by rows, not by edits: the old appointment is cancelled with the
reason "rescheduled" and a new one points back to it (`rescheduled_from`) with the reason.
The booked time of a row never changes, so the audit trail, the iCal feed (a new UID) and a
treatment session linked to an appointment always mean the time that was actually booked.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.models import hash_token
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.protocols import (
    TOO_SOON,
    Protocol,
    check_session,
    get_protocol,
    propose_schedule,
)
from ketacare.consent.models import ConsentSignature
from ketacare.consent.selectors import consent_status
from ketacare.errors import Conflict, Refused
from ketacare.patients.models import Patient
from ketacare.scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CalendarFeed,
    Chair,
    ClinicSchedule,
    Course,
    CourseKind,
    CourseStatus,
)
from ketacare.scheduling.selectors import (
    SESSION_KINDS,
    SlotProblem,
    at_local,
    clinic_schedule_for,
    clinic_zone,
    course_session_days,
    local_date,
    other_course_sessions,
    route_minimum_minutes,
    session_minutes_for,
    slot_problems,
)
from ketacare.screening.models import Screening, ScreeningStatus
from ketacare.screening.selectors import (
    screening_allows_treatment,
    screening_current_for,
    screening_out_of_date,
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
    return now if now is not None else timezone.now()


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
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()


def _lock_course(course: Course) -> Course:
    return Course.objects.select_for_update().get(pk=course.pk, clinic_id=course.clinic_id)


def _lock_chairs(chairs: list[Chair | None]) -> None:
    ids = sorted({chair.pk for chair in chairs if chair is not None})
    if ids:
        list(Chair.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


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
        },
    )
    return appointment


Replayable = TypeVar("Replayable", Course, Appointment)


def _replayed(
    model: type[Replayable], actor: Actor, key: str, patient: Patient
) -> Replayable | None:
    """The record a retried submission (same idempotency key) already created, if any."""
    if not key:
        return None
    existing = model.objects.filter(clinic_id=actor.clinic_id, idempotency_key=key).first()
    if existing is not None and existing.patient_id != patient.pk:
        raise Conflict(
            "This submission key was already used for another patient.", field="idempotency_key"
        )
    return existing


# --- readiness to treat -------------------------------------------------------------------------


def course_readiness(*, patient: Patient, protocol: Protocol) -> tuple[Screening, ConsentSignature]:
    """The signed screening and consent a course on this protocol rests on, or the refusal.

    The screening must be current for the route, signed, allow treatment (a reason when short
    of eligible, a co-signature when ineligible), not out of date, and for a protocol that
    needs treatment-resistant depression it must have screened for that protocol. The consent
    must be signed for the route, not withdrawn, and on the latest published text.
    """
    route = protocol.route
    screening = screening_current_for(patient=patient, route=route)
    if screening is None:
        raise Refused(
            f"There is no screening for the {route} route; run one and have it signed first.",
            field="screening",
            code="screening_missing",
        )
    if screening.signed_by_id is None:
        raise Refused(
            f"Screening {screening.pk} is not signed; a prescriber must sign it first.",
            field="screening",
            code="screening_unsigned",
        )
    if not screening_allows_treatment(screening):
        if screening.status == ScreeningStatus.INELIGIBLE and screening.cosigned_by_id is None:
            raise Refused(
                f"Screening {screening.pk} is ineligible: going ahead needs the signer's reason "
                "and a second prescriber's co-signature.",
                field="screening",
                code="screening_needs_cosignature",
            )
        raise Refused(
            f"Screening {screening.pk} is {screening.get_status_display().lower()}; going ahead "
            "needs the signer's reason.",
            field="screening",
            code="screening_needs_reason",
        )
    changed = screening_out_of_date(screening)
    if changed:
        raise Refused(
            f"Screening {screening.pk} is out of date: {', '.join(changed)} changed in the chart "
            "since it ran. Run the screening again and sign it.",
            field="screening",
            code="screening_out_of_date",
        )
    if protocol.requires_trd:
        screened_for = get_protocol(screening.protocol_id) if screening.protocol_id else None
        if screened_for is None or not screened_for.requires_trd:
            raise Refused(
                f"{protocol.title} needs a screening that checked treatment-resistant "
                f"depression; screening {screening.pk} was not run for such a protocol.",
                field="screening",
                code="screening_wrong_protocol",
            )
    consent = consent_status(patient=patient, route=route)
    if consent.signature is None:
        raise Refused(
            f"There is no signed consent for the {route} route.",
            field="consent",
            code="consent_missing",
        )
    if consent.needs_reconsent:
        latest = consent.latest_version
        raise Refused(
            f"The consent signed is not the current text (version "
            f"{latest.number if latest else '?'} was published since); re-consent first.",
            field="consent",
            code="consent_outdated",
        )
    return screening, consent.signature


# --- courses ------------------------------------------------------------------------------------


def _start_course(
    *,
    actor: Actor,
    patient: Patient,
    protocol_id: str,
    start_on: date,
    chair: Chair,
    first_time: time,
    sessions: int | None,
    kind: str,
    parent: Course | None,
    idempotency_key: str,
    now: datetime | None,
) -> Course:
    actor.require(Permission.COURSE_MANAGE)
    _same_clinic(actor, patient, chair, parent)
    protocol = get_protocol(protocol_id)
    moment = _now(now)
    zone = clinic_zone(actor.clinic)
    if start_on < local_date(moment, zone):
        raise Refused("A course cannot start in the past.", field="start_on", code="in_the_past")
    _lock_patient(patient)
    replay = _replayed(Course, actor, idempotency_key, patient)
    if replay is not None:
        return replay
    if parent is not None:
        parent = _lock_course(parent)
        if parent.patient_id != patient.pk:
            raise Refused("The parent course is another patient's.", field="parent")
        if parent.route != protocol.route:
            raise Refused(
                f"A booster course must be on the parent's route ({parent.route}).",
                field="protocol_id",
            )
        if parent.status == CourseStatus.ACTIVE:
            raise Refused(
                f"Course {parent.pk} is still active: add a booster to it, or stop it first.",
                field="parent",
                code="parent_active",
            )
    running = (
        Course.objects.filter(
            clinic_id=actor.clinic_id,
            patient=patient,
            route=protocol.route,
            status=CourseStatus.ACTIVE,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if running is not None:
        raise Refused(
            f"Course {running} on the {protocol.route} route is still active; complete or stop "
            "it first (or add a booster to it).",
            field="protocol_id",
            code="course_active",
        )
    screening, consent = course_readiness(patient=patient, protocol=protocol)
    schedule = clinic_schedule_for(clinic=actor.clinic)
    minutes = session_minutes_for(schedule=schedule, protocol=protocol)
    days = propose_schedule(protocol, start_on, schedule.open_weekdays, sessions=sessions)
    if not days:
        raise Refused(
            "The protocol's scheduler proposed no session from that day.", field="start_on"
        )
    _lock_chairs([chair])
    blocked = []
    for number, day in enumerate(days, start=1):
        starts_at = at_local(day, first_time, zone)
        problems = slot_problems(
            clinic=actor.clinic,
            schedule=schedule,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            chair=chair,
            patient_id=patient.pk,
            now=moment,
        )
        blocked += [(number, day, problem) for problem in problems]
        too_soon = _too_soon_after_other_courses(
            clinic_id=actor.clinic_id,
            patient_id=patient.pk,
            protocol=protocol,
            day=day,
            zone=zone,
            exclude_course_id=None,
        )
        if too_soon:
            blocked.append((number, day, SlotProblem(TOO_SOON, "start_on", too_soon)))
    if blocked:
        first = blocked[0][2]
        raise Refused(
            "The course was not booked: "
            + " ".join(f"Session {n} ({d:%a %Y-%m-%d}): {p.message}" for n, d, p in blocked),
            field=first.field,
            code=first.code,
        )
    try:
        with transaction.atomic():
            course = Course.objects.create(
                clinic_id=actor.clinic_id,
                patient=patient,
                protocol_id=protocol.id,
                protocol_version=protocol.version,
                route=protocol.route,
                kind=kind,
                parent=parent,
                screening=screening,
                consent=consent,
                planned_sessions=sessions if sessions is not None else protocol.schedule.sessions,
                started_on=days[0],
                created_by=actor.user,
                idempotency_key=idempotency_key,
            )
    except IntegrityError as exc:
        raise Conflict(
            "This course was already submitted; reload to see it.", field="idempotency_key"
        ) from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="course",
        object_id=course.pk,
        patient_id=patient.pk,
        detail={
            "protocol_id": protocol.id,
            "protocol_version": protocol.version,
            "kind": kind,
            "parent_id": parent.pk if parent else None,
            "screening_id": screening.pk,
            "consent_id": consent.pk,
            "sessions": [day.isoformat() for day in days],
        },
    )
    appointment_kind = (
        AppointmentKind.BOOSTER if kind == CourseKind.BOOSTER else AppointmentKind.TREATMENT
    )
    for day in days:
        starts_at = at_local(day, first_time, zone)
        _create_appointment(
            actor=actor,
            patient=patient,
            course=course,
            chair=chair,
            kind=appointment_kind,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
        )
    return course


@transaction.atomic
def course_start(
    *,
    actor: Actor,
    patient: Patient,
    protocol_id: str,
    start_on: date,
    chair: Chair,
    first_time: time,
    sessions: int | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Course:
    """Start a course: the core proposes its sessions, all booked in one chair at one time.

    Refused (nothing written) without a current signed screening that allows treatment and a
    current consent for the route, or if any proposed session cannot be booked as asked.
    """
    return _start_course(
        actor=actor,
        patient=patient,
        protocol_id=protocol_id,
        start_on=start_on,
        chair=chair,
        first_time=first_time,
        sessions=sessions,
        kind=CourseKind.INDUCTION,
        parent=None,
        idempotency_key=idempotency_key,
        now=now,
    )


@transaction.atomic
def booster_course_start(
    *,
    actor: Actor,
    parent: Course,
    protocol_id: str,
    start_on: date,
    chair: Chair,
    first_time: time,
    sessions: int | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Course:
    """Start a booster course after a completed or stopped course, on the same route."""
    _same_clinic(actor, parent)
    return _start_course(
        actor=actor,
        patient=parent.patient,
        protocol_id=protocol_id,
        start_on=start_on,
        chair=chair,
        first_time=first_time,
        sessions=sessions,
        kind=CourseKind.BOOSTER,
        parent=parent,
        idempotency_key=idempotency_key,
        now=now,
    )


@transaction.atomic
def course_stop(
    *, actor: Actor, course: Course, version: int, reason: str, now: datetime | None = None
) -> Course:
    """Stop an active course with a reason; its future booked appointments are cancelled."""
    actor.require(Permission.COURSE_MANAGE)
    _same_clinic(actor, course)
    text = _reason(reason)
    moment = _now(now)
    _lock_patient(course.patient)
    current = _lock_course(course)
    if current.version != version:
        raise _stale("course", version, current.version)
    if current.status != CourseStatus.ACTIVE:
        raise Refused(
            f"Course {course.pk} is already {current.get_status_display().lower()}.",
            field="status",
            code="course_not_active",
        )
    Course.objects.filter(pk=course.pk, version=version).update(
        status=CourseStatus.STOPPED,
        ended_at=moment,
        end_reason=text,
        version=F("version") + 1,
    )
    cancelled = []
    for appointment in Appointment.objects.select_for_update().filter(
        clinic_id=actor.clinic_id,
        course=course,
        status=AppointmentStatus.BOOKED,
        starts_at__gte=moment,
    ):
        _set_cancelled(actor, appointment, f"course stopped: {text}")
        cancelled.append(appointment.pk)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="course",
        object_id=course.pk,
        patient_id=course.patient_id,
        detail={"status": CourseStatus.STOPPED, "reason": text, "cancelled": cancelled},
    )
    course.refresh_from_db()
    return course


@transaction.atomic
def course_add_booster(
    *,
    actor: Actor,
    course: Course,
    chair: Chair,
    starts_at: datetime,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Add a booster session to an active course, as far as its protocol allows.

    A course of a fixed number of sessions that is full is refused (course complete): start a
    booster course instead. A course with a planned number grows by one.
    """
    actor.require(Permission.COURSE_MANAGE)
    return _book(
        actor=actor,
        patient=course.patient,
        course=course,
        chair=chair,
        kind=AppointmentKind.BOOSTER,
        starts_at=starts_at,
        minutes=None,
        idempotency_key=idempotency_key,
        now=now,
        extend_course=True,
    )


# --- appointments -------------------------------------------------------------------------------


def _book(
    *,
    actor: Actor,
    patient: Patient,
    course: Course | None,
    chair: Chair | None,
    kind: str,
    starts_at: datetime,
    minutes: int | None,
    idempotency_key: str,
    now: datetime | None,
    extend_course: bool = False,
) -> Appointment:
    _same_clinic(actor, patient, course, chair)
    if starts_at.tzinfo is None:
        raise Refused("Give the time with its time zone.", field="starts_at")
    _lock_patient(patient)
    replay = _replayed(Appointment, actor, idempotency_key, patient)
    if replay is not None:
        return replay
    schedule = clinic_schedule_for(clinic=actor.clinic)
    protocol = None
    if kind in SESSION_KINDS:
        if course is None:
            raise Refused(
                "A treatment session belongs to a course; choose the patient's course.",
                field="course_id",
                code="course_required",
            )
        if chair is None:
            raise Refused("A treatment session needs a chair.", field="chair_id")
        course = _lock_course(course)
        if ConsentSignature.objects.filter(
            pk=course.consent_id, withdrawn_at__isnull=False
        ).exists():
            raise Refused(
                "The patient withdrew the consent this course rests on; no more sessions can "
                "be booked in it.",
                field="course_id",
                code="consent_withdrawn",
            )
        protocol = get_protocol(course.protocol_id)
        required = session_minutes_for(schedule=schedule, protocol=protocol)
        if minutes is not None and minutes < required:
            raise Refused(
                f"A session of this protocol needs {required} minutes in the chair "
                "(dosing and observation).",
                field="minutes",
            )
        minutes = minutes or required
    elif course is not None:
        course = _lock_course(course)
    if course is not None and course.patient_id != patient.pk:
        raise Refused("That course is another patient's.", field="course_id")
    if minutes is None:
        minutes = DEFAULT_MINUTES.get(AppointmentKind(kind), 30)
    if not 5 <= minutes <= 12 * 60:
        raise Refused("Minutes must be between 5 and 720.", field="minutes")
    ends_at = starts_at + timedelta(minutes=minutes)
    _lock_chairs([chair])
    _raise_first(
        slot_problems(
            clinic=actor.clinic,
            schedule=schedule,
            starts_at=starts_at,
            ends_at=ends_at,
            chair=chair,
            patient_id=patient.pk,
            now=_now(now),
        )
    )
    if course is not None and protocol is not None:
        _check_protocol(
            course=course,
            protocol=protocol,
            starts_at=starts_at,
            exclude_ids=[],
            sessions_in_course=None if extend_course else course.planned_sessions,
        )
        if extend_course and course.planned_sessions is not None:
            Course.objects.filter(pk=course.pk).update(
                planned_sessions=F("planned_sessions") + 1, version=F("version") + 1
            )
    return _create_appointment(
        actor=actor,
        patient=patient,
        course=course,
        chair=chair,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def appointment_book(
    *,
    actor: Actor,
    patient: Patient,
    starts_at: datetime,
    chair: Chair | None = None,
    course: Course | None = None,
    kind: str | None = None,
    minutes: int | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Book one appointment; a session of a course is checked against its protocol.

    Refused with the reason if the chair is taken, the patient is busy, the clinic is closed,
    or the protocol forbids the day (too soon, too many in the week, course complete).
    Sessions of a booster course are booster sessions; adding a booster to another course is
    the prescriber's `course_add_booster`.
    """
    actor.require(Permission.SCHEDULE_MANAGE)
    if kind is None:
        if course is None:
            raise Refused("Choose what the appointment is for.", field="kind")
        kind = (
            AppointmentKind.BOOSTER
            if course.kind == CourseKind.BOOSTER
            else AppointmentKind.TREATMENT
        )
    if kind not in AppointmentKind.values:
        raise Refused(f"Unknown appointment kind {kind!r}.", field="kind")
    if kind == AppointmentKind.BOOSTER and (course is None or course.kind != CourseKind.BOOSTER):
        actor.require(Permission.COURSE_MANAGE)
    return _book(
        actor=actor,
        patient=patient,
        course=course,
        chair=chair,
        kind=kind,
        starts_at=starts_at,
        minutes=minutes,
        idempotency_key=idempotency_key,
        now=now,
    )


def _stale(what: str, version: int, current: int) -> Conflict:
    return Conflict(
        f"This {what} was changed by someone else (you had version {version}, it is now at "
        f"version {current}). Reload and try again.",
        field="version",
    )


def _lock_appointment(appointment: Appointment, version: int | None) -> Appointment:
    current = Appointment.objects.select_for_update().get(
        pk=appointment.pk, clinic_id=appointment.clinic_id
    )
    if version is not None and current.version != version:
        raise _stale("appointment", version, current.version)
    return current


def _set_cancelled(actor: Actor, appointment: Appointment, reason: str) -> None:
    updated = Appointment.objects.filter(pk=appointment.pk, version=appointment.version).update(
        status=AppointmentStatus.CANCELLED, cancel_reason=reason, version=F("version") + 1
    )
    if updated == 0:
        raise _stale("appointment", appointment.version, appointment.version + 1)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        patient_id=appointment.patient_id,
        detail={"status": AppointmentStatus.CANCELLED, "reason": reason},
    )


@transaction.atomic
def appointment_cancel(
    *, actor: Actor, appointment: Appointment, version: int, reason: str
) -> Appointment:
    """Cancel a booked (or checked-in) appointment, keeping the reason; it frees the chair."""
    actor.require(Permission.SCHEDULE_MANAGE)
    _same_clinic(actor, appointment)
    text = _reason(reason)
    _lock_patient(appointment.patient)
    current = _lock_appointment(appointment, version)
    if current.status not in CANCELLABLE_STATUSES:
        raise Refused(
            f"A {current.get_status_display().lower()} appointment cannot be cancelled.",
            field="status",
            code="not_cancellable",
        )
    _set_cancelled(actor, current, text)
    current.refresh_from_db()
    return current


@transaction.atomic
def appointment_reschedule(
    *,
    actor: Actor,
    appointment: Appointment,
    version: int,
    starts_at: datetime,
    reason: str,
    chair: Chair | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment: the old row is cancelled ("rescheduled"), a new row booked.

    The new time is checked like a new booking (chair, patient, hours, protocol), ignoring
    the appointment it replaces. Returns the new appointment.
    """
    actor.require(Permission.SCHEDULE_MANAGE)
    _same_clinic(actor, appointment, chair)
    text = _reason(reason)
    if starts_at.tzinfo is None:
        raise Refused("Give the time with its time zone.", field="starts_at")
    _lock_patient(appointment.patient)
    course = _lock_course(appointment.course) if appointment.course is not None else None
    target_chair = chair if chair is not None else appointment.chair
    _lock_chairs([appointment.chair, target_chair])
    current = _lock_appointment(appointment, version)
    if current.status != AppointmentStatus.BOOKED:
        raise Refused(
            f"Only a booked appointment can be rescheduled; this one is "
            f"{current.get_status_display().lower()}.",
            field="status",
            code="not_reschedulable",
        )
    schedule = clinic_schedule_for(clinic=actor.clinic)
    minutes = round((current.ends_at - current.starts_at).total_seconds() / 60)
    protocol = None
    if course is not None and current.kind in SESSION_KINDS:
        protocol = get_protocol(course.protocol_id)
        minutes = max(minutes, session_minutes_for(schedule=schedule, protocol=protocol))
    ends_at = starts_at + timedelta(minutes=minutes)
    _raise_first(
        slot_problems(
            clinic=actor.clinic,
            schedule=schedule,
            starts_at=starts_at,
            ends_at=ends_at,
            chair=target_chair,
            patient_id=current.patient_id,
            now=_now(now),
            exclude_ids=[current.pk],
        )
    )
    if course is not None and protocol is not None:
        # A session already counted (booked) is moved, so the course's own size still applies;
        # a booster that extended the course was counted in its planned number.
        _check_protocol(
            course=course,
            protocol=protocol,
            starts_at=starts_at,
            exclude_ids=[current.pk],
            sessions_in_course=course.planned_sessions,
        )
    _set_cancelled(actor, current, RESCHEDULED)
    return _create_appointment(
        actor=actor,
        patient=appointment.patient,
        course=course,
        chair=target_chair,
        kind=current.kind,
        starts_at=starts_at,
        ends_at=ends_at,
        rescheduled_from=current,
        reschedule_reason=text,
    )


@transaction.atomic
def appointment_set_status(
    *,
    actor: Actor,
    appointment: Appointment,
    status: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment along its state machine (`APPOINTMENT_TRANSITIONS`).

    booked → arrived or no-show (front desk); arrived → in session → completed (clinicians).
    Not before the appointment's day, and a no-show not before its start. When the last
    planned session of a course completes, the course is completed. `version` is optional
    for callers (the session workflow) that hold no version; the move is still atomic.
    """
    if not actor.can(Permission.SESSION_RUN):
        actor.require(Permission.SCHEDULE_MANAGE)
    _same_clinic(actor, appointment)
    moment = _now(now)
    _lock_patient(appointment.patient)
    course = _lock_course(appointment.course) if appointment.course is not None else None
    current = _lock_appointment(appointment, version)
    allowed = APPOINTMENT_TRANSITIONS.get(current.status, {})
    if status not in allowed:
        raise Refused(
            f"An appointment that is {current.get_status_display().lower()} cannot become "
            f"{_status_label(status)}.",
            field="status",
            code="invalid_transition",
        )
    actor.require(allowed[status])
    zone = clinic_zone(actor.clinic)
    if local_date(moment, zone) < local_date(current.starts_at, zone):
        raise Refused(
            f"The appointment is on {local_date(current.starts_at, zone):%a %Y-%m-%d}; "
            f"'{_status_label(status)}' can only be recorded from that day.",
            field="status",
            code="not_yet",
        )
    if status == AppointmentStatus.NO_SHOW and moment < current.starts_at:
        raise Refused(
            "A no-show can only be recorded after the appointment's start.",
            field="status",
            code="not_yet",
        )
    Appointment.objects.filter(pk=current.pk, status=current.status).update(
        status=status, version=F("version") + 1
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=current.pk,
        patient_id=current.patient_id,
        detail={"status": status, "from": current.status},
    )
    if (
        status == AppointmentStatus.COMPLETED
        and course is not None
        and course.status == CourseStatus.ACTIVE
        and course.planned_sessions is not None
    ):
        done = Appointment.objects.filter(
            clinic_id=actor.clinic_id,
            course=course,
            kind__in=SESSION_KINDS,
            status=AppointmentStatus.COMPLETED,
        ).count()
        if done >= course.planned_sessions:
            Course.objects.filter(pk=course.pk).update(
                status=CourseStatus.COMPLETED,
                ended_at=moment,
                end_reason=f"All {course.planned_sessions} planned sessions completed.",
                version=F("version") + 1,
            )
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type="course",
                object_id=course.pk,
                patient_id=course.patient_id,
                detail={"status": CourseStatus.COMPLETED, "sessions_completed": done},
            )
    current.refresh_from_db()
    return current


def _status_label(status: str) -> str:
    try:
        return str(AppointmentStatus(status).label).lower()
    except ValueError:
        return repr(status)


# --- chairs, clinic schedule and the calendar feed ----------------------------------------------


@transaction.atomic
def chair_create(*, actor: Actor, room: str, label: str) -> Chair:
    """Add a chair to a room of the actor's clinic."""
    actor.require(Permission.CLINIC_MANAGE)
    room, label = room.strip(), label.strip()
    if not room or not label:
        raise Refused("Name the room and the chair.", field="label" if room else "room")
    if Chair.objects.filter(clinic_id=actor.clinic_id, room=room, label=label).exists():
        raise Conflict(f"{room} already has a chair called {label}.", field="label")
    try:
        with transaction.atomic():
            chair = Chair.objects.create(clinic_id=actor.clinic_id, room=room, label=label)
    except IntegrityError as exc:
        raise Conflict(f"{room} already has a chair called {label}.", field="label") from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="chair",
        object_id=chair.pk,
        detail={"room": room, "label": label},
    )
    return chair


@transaction.atomic
def chair_set_active(
    *, actor: Actor, chair: Chair, is_active: bool, now: datetime | None = None
) -> Chair:
    """Put a chair out of use (refused while future bookings use it) or back into use."""
    actor.require(Permission.CLINIC_MANAGE)
    _same_clinic(actor, chair)
    _lock_chairs([chair])
    if not is_active:
        upcoming = Appointment.objects.filter(
            clinic_id=actor.clinic_id,
            chair=chair,
            status=AppointmentStatus.BOOKED,
            starts_at__gte=_now(now),
        ).count()
        if upcoming:
            raise Refused(
                f"{chair} has {upcoming} upcoming booking(s); move them to another chair first.",
                field="is_active",
                code="chair_in_use",
            )
    Chair.objects.filter(pk=chair.pk).update(is_active=is_active)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="chair",
        object_id=chair.pk,
        detail={"is_active": is_active},
    )
    chair.refresh_from_db()
    return chair


@transaction.atomic
def clinic_schedule_update(
    *,
    actor: Actor,
    version: int,
    open_weekdays: list[int],
    opens_at: time,
    closes_at: time,
    slot_minutes: int,
    session_minutes: dict[str, int],
) -> ClinicSchedule:
    """Set the clinic's opening days and hours, calendar slot and chair time per route.

    A route's chair time may be longer than its protocols need, never shorter.
    """
    actor.require(Permission.CLINIC_MANAGE)
    days = sorted(set(open_weekdays))
    if not days or any(day not in range(7) for day in days):
        raise Refused("Choose at least one day, 0 (Monday) to 6 (Sunday).", field="open_weekdays")
    if closes_at <= opens_at:
        raise Refused("Closing must be after opening.", field="closes_at")
    if slot_minutes not in (10, 15, 20, 30, 60):
        raise Refused("The calendar slot is 10, 15, 20, 30 or 60 minutes.", field="slot_minutes")
    minimum = route_minimum_minutes()
    cleaned: dict[str, int] = {}
    for route, minutes in session_minutes.items():
        if route not in minimum:
            raise Refused(f"Unknown route {route!r}.", field="session_minutes")
        if minutes < minimum[route]:
            raise Refused(
                f"A {route} session needs at least {minimum[route]} minutes in the chair "
                "(the protocol's dosing and observation time).",
                field="session_minutes",
            )
        cleaned[route] = int(minutes)
    schedule, created = ClinicSchedule.objects.select_for_update().get_or_create(
        clinic_id=actor.clinic_id
    )
    if not created and schedule.version != version:
        raise _stale("schedule", version, schedule.version)
    values = {
        "open_weekdays": days,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "slot_minutes": slot_minutes,
        "session_minutes": cleaned,
    }
    ClinicSchedule.objects.filter(pk=schedule.pk).update(
        **values, version=schedule.version + (0 if created else 1)
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="clinic_schedule",
        object_id=schedule.pk,
        detail={
            **values,
            "opens_at": opens_at.isoformat(),
            "closes_at": closes_at.isoformat(),
        },
    )
    schedule.refresh_from_db()
    return schedule


@transaction.atomic
def calendar_feed_rotate(*, actor: Actor) -> str:
    """Issue a new secret feed token for the clinic (the old URL stops working); returns it.

    Only the token's hash is stored, so the URL can be shown once, now.
    """
    actor.require(Permission.CLINIC_MANAGE)
    moment = timezone.now()
    revoked = list(
        CalendarFeed.objects.select_for_update()
        .filter(clinic_id=actor.clinic_id, revoked_at__isnull=True)
        .values_list("pk", flat=True)
    )
    CalendarFeed.objects.filter(pk__in=revoked).update(revoked_at=moment)
    raw = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        clinic_id=actor.clinic_id, token_hash=hash_token(raw), created_by=actor.user
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="calendar_feed",
        object_id=feed.pk,
        detail={"revoked": revoked},
    )
    return raw
