"""Demo scheduling data: rooms and chairs, opening hours, and courses by the demo stage plan.

Courses are started through the services as of a day in the past (`now=`), so the core's
scheduler spaces the sessions as the protocol allows; sessions before today are then taken
through arrived, in session and completed. A patient without the signed screening and consent
a course needs (another app's demo makes them) is skipped. Running it twice changes nothing.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.clinical import ClinicalError
from ketacare.clinical.protocols import get_protocol
from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.patients.models import Patient
from ketacare.scheduling import services
from ketacare.scheduling.models import (
    AppointmentStatus,
    Chair,
    ClinicSchedule,
    Course,
    CourseStatus,
)
from ketacare.scheduling.selectors import (
    at_local,
    clinic_schedule_for,
    clinic_zone,
    local_date,
    protocol_session_minutes,
)

logger = logging.getLogger(__name__)

ROOMS = (
    ("Cedar room", ("Chair 1", "Chair 2", "Chair 3")),
    ("Willow room", ("Chair 4", "Chair 5", "Chair 6")),
)
MORNING, AFTERNOON = time(8, 0), time(12, 30)


@dataclass(frozen=True)
class DemoCourse:
    """One demo course: whose (1-based position by MRN), protocol, first day, chair and time."""

    position: int
    protocol_id: str
    starts_days_ago: int
    chair: int
    at: time | None  # None: a time that puts today's session now (the live session)
    sessions: int | None = None
    booster_of: str = ""  # "parent": a booster course after this patient's completed course


# The brief's stage plan: 7-10 active IV induction with past sessions, 11 a session today,
# 12 esketamine for TRD, 13 a completed IV course, 15 a booster course after a completed one.
# Each course has its own chair and time, so no two demo courses compete for a chair.
PLAN = (
    DemoCourse(7, "iv_induction_6x", 9, 0, MORNING),
    DemoCourse(8, "iv_induction_6x", 7, 1, MORNING),
    DemoCourse(9, "iv_induction_6x", 5, 2, MORNING),
    DemoCourse(10, "iv_induction_6x", 3, 3, MORNING),
    DemoCourse(11, "iv_induction_6x", 7, 5, None),
    DemoCourse(12, "esketamine_trd", 17, 4, MORNING),
    DemoCourse(13, "iv_induction_6x", 60, 0, AFTERNOON),
    DemoCourse(15, "iv_induction_6x", 90, 1, AFTERNOON),
    DemoCourse(15, "iv_booster", 10, 2, AFTERNOON, sessions=3, booster_of="parent"),
)


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Chairs, opening hours and the stage plan's courses for one demo clinic (idempotent)."""
    chairs = _ensure_chairs(clinic)
    ClinicSchedule.objects.get_or_create(
        clinic=clinic,
        # Open every day so the demo always has a today; 07:00-21:00.
        defaults={"open_weekdays": list(range(7)), "opens_at": time(7), "closes_at": time(21)},
    )
    patients = list(Patient.objects.filter(clinic=clinic).order_by("mrn"))
    prescriber = _actor(clinic, staff[Role.PRESCRIBER], Role.PRESCRIBER)
    nurse = _actor(clinic, staff[Role.NURSE], Role.NURSE)
    started: set[int] = set()
    for plan in PLAN:
        if plan.position > len(patients):
            continue
        patient = patients[plan.position - 1]
        if plan.booster_of:
            if patient.pk not in started:
                continue  # the parent course was not made this run (or already existed)
        elif Course.objects.filter(clinic=clinic, patient=patient).exists():
            continue
        try:
            course = _start(plan, patient, chairs, prescriber)
        except (KetaCareError, ClinicalError) as refusal:
            logger.info("demo: no %s course for %s: %s", plan.protocol_id, patient.mrn, refusal)
            continue
        _complete_past_sessions(course, nurse)
        started.add(patient.pk)


def _actor(clinic: Clinic, user: User, role: Role) -> Actor:
    return Actor(user=user, clinic=clinic, role=role, client_address="127.0.0.1", channel="demo")


def _ensure_chairs(clinic: Clinic) -> list[Chair]:
    chairs = []
    for room, labels in ROOMS:
        for label in labels:
            chair, _ = Chair.objects.get_or_create(clinic=clinic, room=room, label=label)
            chairs.append(chair)
    return chairs


def _live_time(clinic: Clinic, minutes: int) -> time:
    """A start today about 40 minutes ago, on the half hour, inside opening hours."""
    schedule = clinic_schedule_for(clinic=clinic)
    local_now = clock.now().astimezone(clinic_zone(clinic))
    start = local_now - timedelta(minutes=40)
    start = start.replace(minute=0 if start.minute < 30 else 30, second=0, microsecond=0)
    latest = datetime.combine(local_now.date(), schedule.closes_at) - timedelta(minutes=minutes)
    wall = min(max(start.time(), schedule.opens_at), latest.time())
    return wall.replace(minute=0 if wall.minute < 30 else 30)


def _start(plan: DemoCourse, patient: Patient, chairs: list[Chair], prescriber: Actor) -> Course:
    zone = clinic_zone(patient.clinic)
    today = local_date(clock.now(), zone)
    start_on = today - timedelta(days=plan.starts_days_ago)
    minutes = protocol_session_minutes(get_protocol(plan.protocol_id))
    at = plan.at or _live_time(patient.clinic, minutes)
    as_of = at_local(start_on - timedelta(days=1), time(7), zone)
    if not plan.booster_of:
        return services.course_start(
            actor=prescriber,
            patient=patient,
            protocol_id=plan.protocol_id,
            start_on=start_on,
            chair=chairs[plan.chair],
            first_time=at,
            sessions=plan.sessions,
            now=as_of,
        )
    parent = (
        Course.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .exclude(status=CourseStatus.ACTIVE)
        .order_by("-started_on")
        .first()
    )
    if parent is None:
        raise KetaCareError("no completed course to follow")
    return services.booster_course_start(
        actor=prescriber,
        parent=parent,
        protocol_id=plan.protocol_id,
        start_on=start_on,
        chair=chairs[plan.chair],
        first_time=at,
        sessions=plan.sessions,
        now=as_of,
    )


def _complete_past_sessions(course: Course, nurse: Actor) -> None:
    """Sessions on days before today were given: arrived, in session, completed."""
    zone = clinic_zone(course.clinic)
    today = local_date(clock.now(), zone)
    for appointment in course.appointments.order_by("starts_at"):
        if local_date(appointment.starts_at, zone) >= today:
            continue
        for status, after in (
            (AppointmentStatus.ARRIVED, timedelta(minutes=-10)),
            (AppointmentStatus.IN_SESSION, timedelta(minutes=5)),
            (AppointmentStatus.COMPLETED, appointment.ends_at - appointment.starts_at),
        ):
            appointment = services.appointment_set_status(
                actor=nurse,
                appointment=appointment,
                status=status,
                now=appointment.starts_at + after,
            )
