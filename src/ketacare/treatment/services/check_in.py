"""Check-in: open a session for a booked appointment once course, screening and consent allow."""

from django.db import transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.clinical.protocols import check_session, get_protocol
from ketacare.consent.selectors import consent_status
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.scheduling.models import Appointment, AppointmentStatus, Course, CourseStatus
from ketacare.scheduling.selectors import SESSION_KINDS, clinic_zone, local_date
from ketacare.scheduling.services import appointment_set_status
from ketacare.screening.selectors import screening_allows_treatment, screening_current_for
from ketacare.treatment import states
from ketacare.treatment.models import (
    TreatmentSession,
)
from ketacare.treatment.services import controlled
from ketacare.treatment.services.steps import S, _audit, _replay, _settle

# --- check-in -----------------------------------------------------------------------------------


@transaction.atomic
def session_check_in(
    *,
    actor: Actor,
    idempotency_key: str,
    appointment_id: int | None = None,
    course_id: int | None = None,
) -> TreatmentSession:
    """Check a patient in for a session of their course, from today's appointment or walk-in."""
    actor.require(Permission.SESSION_RUN)
    replayed = _replay(actor, idempotency_key, "check_in", TreatmentSession)
    if replayed is not None:
        return replayed
    now = clock.now()
    zone = clinic_zone(actor.clinic)
    appointment = None
    if appointment_id is not None:
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("course", "patient")
            .filter(pk=appointment_id, clinic_id=actor.clinic_id)
            .first()
        )
        if appointment is None:
            raise Http404("Appointment not found.")
        if appointment.kind not in SESSION_KINDS or appointment.course_id is None:
            raise Refused(
                "Only a treatment or booster appointment of a course starts a session.",
                field="appointment_id",
                code="not_a_session",
            )
        if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED):
            raise Refused(
                f"The appointment is {appointment.get_status_display().lower()}.",
                field="appointment_id",
                code="appointment_status",
            )
        if local_date(appointment.starts_at, zone) != local_date(now, zone):
            raise Refused(
                f"The appointment is on {local_date(appointment.starts_at, zone):%a %Y-%m-%d}, "
                "not today.",
                field="appointment_id",
                code="not_today",
            )
        if TreatmentSession.objects.filter(appointment=appointment).exists():
            raise Conflict(
                "A session was already started for this appointment.",
                field="appointment_id",
                code="already_checked_in",
            )
        course = appointment.course
    elif course_id is not None:
        course = (
            Course.objects.select_related("patient")
            .filter(pk=course_id, clinic_id=actor.clinic_id)
            .first()
        )
        if course is None:
            raise Http404("Course not found.")
    else:
        raise Refused(
            "Choose today's appointment (or the course, for a session without one).",
            field="appointment_id",
            code="required",
        )
    if course is None:  # pragma: no cover - a session appointment always has its course
        raise Refused("The appointment has no course.", field="appointment_id", code="no_course")
    patient = course.patient
    if course.status != CourseStatus.ACTIVE:
        raise Refused(
            f"The course is {course.get_status_display().lower()}.",
            field="course_id",
            code="course_not_active",
        )
    open_session = (
        TreatmentSession.objects.filter(clinic_id=actor.clinic_id, patient=patient)
        .exclude(status__in=states.FINISHED)
        .first()
    )
    if open_session is not None:
        raise Conflict(
            f"{patient.display_name} already has an open session (checked in "
            f"{open_session.checked_in_at.astimezone(zone):%a %H:%M}).",
            field="course_id",
            code="session_open",
        )
    _ensure_may_treat(course)
    protocol = get_protocol(course.protocol_id)
    past = [
        local_date(moment, zone)
        for moment in TreatmentSession.objects.filter(
            clinic_id=actor.clinic_id, course=course, dosing_started_at__isnull=False
        ).values_list("dosing_started_at", flat=True)
        if moment is not None
    ]
    verdict = check_session(
        protocol, local_date(now, zone), past, sessions_in_course=course.planned_sessions
    )
    if not verdict.allowed:
        raise Refused(verdict.reason, field="course_id", code=verdict.code)
    session = TreatmentSession.objects.create(
        clinic=actor.clinic,
        patient=patient,
        course=course,
        appointment=appointment,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        route=protocol.route,
        status=S.CHECKED_IN,
        created_by=actor.user,
        created_at=now,
        checked_in_by=actor.user,
        checked_in_at=now,
    )
    controlled.rems_gate(session, dosing=False)  # the setting's REMS certification (rolls back)
    if appointment is not None:
        if appointment.status == AppointmentStatus.BOOKED:
            appointment_set_status(
                actor=actor, appointment=appointment, status=AppointmentStatus.ARRIVED, now=now
            )
        appointment_set_status(
            actor=actor, appointment=appointment, status=AppointmentStatus.IN_SESSION, now=now
        )
    _audit(
        actor,
        AuditAction.CREATE,
        "treatment_session",
        session.pk,
        session,
        {"course_id": course.pk, "appointment_id": appointment_id, "protocol": protocol.id},
    )
    _settle(actor, idempotency_key, session, session.pk)
    return session


def _ensure_may_treat(course: Course) -> None:
    """Consent to the route in force and a screening that allows treatment, or refuse."""
    patient = course.patient
    consent = consent_status(patient=patient, route=course.route)
    if not consent.has_consent:
        raise Refused(
            f"{patient.display_name} has no consent in force for {course.route} treatment.",
            field="course_id",
            code="no_consent",
        )
    if consent.needs_reconsent:
        raise Refused(
            "A newer consent text was published: the patient must re-consent before treatment.",
            field="course_id",
            code="reconsent_needed",
        )
    screening = screening_current_for(patient=patient, route=course.route)
    if screening is None or not screening_allows_treatment(screening):
        raise Refused(
            "The patient's current screening does not allow treatment (not signed, superseded, "
            "or needs a reason and co-signature).",
            field="course_id",
            code="screening",
        )
