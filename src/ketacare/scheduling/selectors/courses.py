"""Chairs and courses as the actor may see them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.patients.models import Patient
from ketacare.scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Chair,
    Course,
    CourseStatus,
)
from ketacare.scheduling.selectors.times import SESSION_KINDS, local_date

# --- chairs -------------------------------------------------------------------------------------


def chairs_of_clinic(*, actor: Actor, include_inactive: bool = False) -> list[Chair]:
    """The clinic's chairs by room and label (active ones unless asked otherwise)."""
    actor.require(Permission.SCHEDULE_VIEW)
    chairs = Chair.objects.filter(clinic_id=actor.clinic_id)
    if not include_inactive:
        chairs = chairs.filter(is_active=True)
    return list(chairs.order_by("room", "label", "id"))


def chair_get_for_actor(
    *, actor: Actor, chair_id: int, permission: Permission = Permission.SCHEDULE_VIEW
) -> Chair:
    """One chair of the actor's clinic; another clinic's chair is not found (404)."""
    actor.require(permission)
    chair = Chair.objects.filter(clinic_id=actor.clinic_id, pk=chair_id).first()
    if chair is None:
        raise Http404("Chair not found.")
    return chair


# --- courses ------------------------------------------------------------------------------------


def _courses(actor: Actor) -> QuerySet[Course]:
    return Course.objects.filter(clinic_id=actor.clinic_id)


def _appointments(actor: Actor) -> QuerySet[Appointment]:
    return Appointment.objects.filter(clinic_id=actor.clinic_id)


def course_get_for_actor(
    *,
    actor: Actor,
    course_id: int,
    permission: Permission = Permission.SCHEDULE_VIEW,
    audit: bool = True,
) -> Course:
    """One course of the actor's clinic, patient and parent loaded; others are not found."""
    actor.require(permission)
    course = (
        _courses(actor)
        .select_related("patient", "parent", "screening")
        .filter(pk=course_id)
        .first()
    )
    if course is None:
        raise Http404("Course not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="course",
            object_id=course.pk,
            patient_id=course.patient_id,
        )
    return course


def course_appointments(*, course: Course) -> list[Appointment]:
    """Every appointment of a course (cancelled ones too), in time order, chairs loaded."""
    return list(
        Appointment.objects.filter(clinic_id=course.clinic_id, course=course)
        .select_related("chair")
        .order_by("starts_at", "id")
    )


def course_session_days(
    *, course: Course, zone: ZoneInfo, exclude_ids: Iterable[int] = ()
) -> list[date]:
    """Local days of a course's sessions that count for the protocol (booked to completed)."""
    starts = (
        Appointment.objects.filter(
            clinic_id=course.clinic_id,
            course=course,
            kind__in=SESSION_KINDS,
            status__in=ACTIVE_APPOINTMENT_STATUSES,
        )
        .exclude(pk__in=list(exclude_ids))
        .values_list("starts_at", flat=True)
    )
    return sorted(local_date(start, zone) for start in starts)


def other_course_sessions(
    *,
    clinic_id: int,
    patient_id: int,
    route: str,
    zone: ZoneInfo,
    exclude_course_id: int | None = None,
    exclude_ids: Iterable[int] = (),
) -> list[tuple[date, int | None]]:
    """(local day, course id) of the patient's sessions on a route outside one course."""
    rows = (
        Appointment.objects.filter(
            clinic_id=clinic_id,
            patient_id=patient_id,
            course__route=route,
            kind__in=SESSION_KINDS,
            status__in=ACTIVE_APPOINTMENT_STATUSES,
        )
        .exclude(pk__in=list(exclude_ids))
        .values_list("starts_at", "course_id")
    )
    if exclude_course_id is not None:
        rows = rows.exclude(course_id=exclude_course_id)
    return sorted((local_date(start, zone), course_id) for start, course_id in rows)


def courses_of_patient(*, actor: Actor, patient: Patient, audit: bool = True) -> list[Course]:
    """A patient's courses, newest first, each with its appointments (chairs loaded)."""
    actor.require(Permission.SCHEDULE_VIEW)
    courses = list(
        _courses(actor)
        .filter(patient_id=patient.pk)
        .select_related("parent")
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=Appointment.objects.filter(clinic_id=actor.clinic_id)
                .select_related("chair", "patient")
                .order_by("starts_at", "id"),
            )
        )
        .order_by("-started_on", "-id")
    )
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="course",
            patient_id=patient.pk,
            detail={"course_ids": [c.pk for c in courses]},
        )
    return courses


def active_courses_of_clinic(*, actor: Actor) -> list[Course]:
    """The clinic's active courses with their patients and counted sessions, for booking forms."""
    actor.require(Permission.SCHEDULE_VIEW)
    return list(
        _courses(actor)
        .filter(status=CourseStatus.ACTIVE)
        .select_related("patient")
        .annotate(
            sessions_counted=Count(
                "appointments",
                filter=Q(
                    appointments__status__in=ACTIVE_APPOINTMENT_STATUSES,
                    appointments__kind__in=SESSION_KINDS,
                ),
            )
        )
        .order_by("patient__family_name", "patient__given_name", "id")
    )
