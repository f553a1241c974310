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
from ketacare.consent.models import ConsentSignature
from ketacare.consent.selectors import consent_status
from ketacare.errors import Conflict, Refused
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
    _replayed,
    _same_clinic,
    _too_soon_after_other_courses,
)
from ketacare.screening.models import Screening, ScreeningStatus
from ketacare.screening.selectors import (
    screening_allows_treatment,
    screening_current_for,
    screening_out_of_date,
)

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
