"""Booking, cancelling, rescheduling and moving appointments through their statuses."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q

from ketacare.accounts.access import Actor
from ketacare.accounts.models import User
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.protocols import (
    get_protocol,
)
from ketacare.consent.models import ConsentSignature
from ketacare.errors import Refused
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
from ketacare.scheduling.selectors import (
    SESSION_KINDS,
    clinic_schedule_for,
    clinic_zone,
    is_clinic_therapist,
    local_date,
    session_minutes_for,
    slot_problems,
)
from ketacare.scheduling.services.common import (
    APPOINTMENT_TRANSITIONS,
    CANCELLABLE_STATUSES,
    DEFAULT_MINUTES,
    RESCHEDULED,
    _check_protocol,
    _create_appointment,
    _lock_chairs,
    _lock_course,
    _lock_patient,
    _lock_therapist,
    _now,
    _raise_first,
    _reason,
    _same_clinic,
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
    therapist: User | None = None,
) -> Appointment:
    _same_clinic(actor, patient, course, chair)
    if starts_at.tzinfo is None:
        raise Refused("Give the time with its time zone.", field="starts_at")
    _lock_patient(patient)
    replay = replayed(
        Appointment,
        clinic_id=actor.clinic_id,
        key=idempotency_key,
        same=lambda row: row.patient_id == patient.pk,
        what="another patient",
    )
    if replay is not None:
        return replay
    _check_therapist(actor=actor, kind=kind, therapist=therapist)
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
        if (
            ConsentSignature.objects.filter(pk=course.consent_id)
            .filter(Q(withdrawn_at__isnull=False) | Q(entered_in_error_at__isnull=False))
            .exists()
        ):
            raise Refused(
                "The consent this course rests on was withdrawn or entered in error; no more "
                "sessions can be booked in it.",
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
    _lock_therapist(therapist)
    _raise_first(
        slot_problems(
            clinic=actor.clinic,
            schedule=schedule,
            starts_at=starts_at,
            ends_at=ends_at,
            chair=chair,
            patient_id=patient.pk,
            now=_now(now),
            therapist_id=therapist.pk if therapist is not None else None,
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
        therapist=therapist,
    )


def _check_therapist(*, actor: Actor, kind: str, therapist: User | None) -> None:
    """An integration session is booked with one of the clinic's therapists; other kinds of
    appointment are not (a treatment session is run by the clinicians on duty)."""
    if kind == AppointmentKind.INTEGRATION:
        if therapist is None:
            raise Refused(
                "An integration session is booked with a therapist; choose the therapist.",
                field="therapist_id",
                code="therapist_required",
            )
    elif therapist is not None:
        raise Refused(
            "Only an integration session is booked with a therapist.",
            field="therapist_id",
            code="therapist_not_applicable",
        )
    if therapist is not None and not is_clinic_therapist(
        clinic_id=actor.clinic_id, user_id=therapist.pk
    ):
        raise Refused(
            f"{therapist.display_name()} is not an active therapist of this clinic.",
            field="therapist_id",
            code="not_a_clinic_therapist",
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
    therapist: User | None = None,
) -> Appointment:
    """Book one appointment; a session of a course is checked against its protocol.

    Refused with the reason if the chair is taken, the patient is busy, the clinic is closed,
    or the protocol forbids the day (too soon, too many in the week, course complete). An
    integration session needs an active therapist of the clinic who is free at that time.
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
        therapist=therapist,
    )


def _lock_appointment(appointment: Appointment, version: int | None) -> Appointment:
    current = Appointment.objects.select_for_update().get(
        pk=appointment.pk, clinic_id=appointment.clinic_id
    )
    if version is not None and current.version != version:
        raise stale_version("appointment", seen=version, current=current.version)
    return current


def _set_cancelled(actor: Actor, appointment: Appointment, reason: str) -> None:
    updated = Appointment.objects.filter(pk=appointment.pk, version=appointment.version).update(
        status=AppointmentStatus.CANCELLED, cancel_reason=reason, version=F("version") + 1
    )
    if updated == 0:
        raise stale_version(
            "appointment", seen=appointment.version, current=appointment.version + 1
        )
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
    therapist = current.therapist if current.therapist_id is not None else None
    _lock_therapist(therapist)
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
            therapist_id=current.therapist_id,
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
        therapist=therapist,
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
