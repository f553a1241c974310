"""Readiness to treat, and starting, stopping and extending courses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.protocols import (
    TOO_SOON,
    Protocol,
    get_protocol,
    propose_schedule,
)
from ketacare.clinical.readiness import COURSE_START, assess
from ketacare.errors import Conflict, Refused
from ketacare.kernel.idempotency import replayed
from ketacare.kernel.versions import stale_version
from ketacare.patients.models import Patient
from ketacare.scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Chair,
    Course,
    CourseKind,
    CourseStatus,
)
from ketacare.scheduling.readiness import readiness_facts
from ketacare.scheduling.selectors import (
    SlotProblem,
    at_local,
    clinic_schedule_for,
    clinic_zone,
    local_date,
    session_minutes_for,
    slot_problems,
)
from ketacare.scheduling.services.appointments import _book, _set_cancelled
from ketacare.scheduling.services.common import (
    _create_appointment,
    _lock_chairs,
    _lock_course,
    _lock_patient,
    _now,
    _reason,
    _same_clinic,
    _too_soon_after_other_courses,
)

# --- readiness to treat -------------------------------------------------------------------------


def course_readiness(*, patient: Patient, protocol: Protocol) -> tuple[int, int]:
    """The ids of the signed screening and consent a course on this protocol rests on, or the
    refusal.

    The decision is the core's readiness (`ketacare.clinical.readiness`) over the facts the one
    readiness selector gathers, the same as check-in, the readiness panel and the patient page.
    """
    facts = readiness_facts(patient=patient, protocol=protocol)
    blocker = assess(facts).first(COURSE_START)
    if blocker is not None:
        raise Refused(blocker.reason, field=blocker.field, code=blocker.code)
    if facts.screening is None or facts.consent.signature_id is None:  # pragma: no cover
        raise RuntimeError("readiness allowed a course with no screening or consent to rest on")
    return facts.screening.id, facts.consent.signature_id


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
    replay = replayed(
        Course,
        clinic_id=actor.clinic_id,
        key=idempotency_key,
        same=lambda row: row.patient_id == patient.pk,
        what="another patient",
    )
    if replay is not None:
        return replay
    if parent is not None:
        parent = _lock_course(parent)
        if parent.patient_id != patient.pk:
            raise Refused("The parent course is another patient's.", field="parent")
        # a booster stays on its parent course's route: two routes compared, none named
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
    screening_id, consent_id = course_readiness(patient=patient, protocol=protocol)
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
                screening_id=screening_id,
                consent_id=consent_id,
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
            "screening_id": screening_id,
            "consent_id": consent_id,
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
        raise stale_version("course", seen=version, current=current.version)
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
