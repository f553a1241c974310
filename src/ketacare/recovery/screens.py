"""The recovery screens on their schedule: the dispatch pass asks this planner which screens'
slots have opened (the core decides from each patient's anchors) and sends what the portal can.

Anchors: a patient's registration (intake, for everyone), an active or paused at-home programme
(monthly), and an active course on a protocol the schedule names.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ketacare.accounts.models import Clinic
from ketacare.athome.models import HomeProgramme, ProgrammeStatus
from ketacare.clinical import screens as core
from ketacare.followup.dispatch import SEND_HOUR
from ketacare.followup.policy import portal_screens
from ketacare.kernel.clinic_time import clinic_zone, local_date
from ketacare.outcomes.models import AssignmentTrigger, QuestionnaireAssignment
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Course, CourseStatus


def _morning(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, SEND_HOUR, tzinfo=zone)


def screen_assignments_plan(
    now: datetime, clinic_ids: list[int] | None
) -> list[QuestionnaireAssignment]:
    """The screens whose slot is open now, unsaved (the dispatch pass saves them once)."""
    schedule = core.load_screen_schedule()
    sendable = set(portal_screens())
    if not sendable:
        return []
    anchors: dict[int, list[core.ScreenAnchor]] = defaultdict(list)
    clinic_of: dict[int, int] = {}
    # Intake: only patients registered within the window can have an open intake slot.
    recent = Patient.objects.filter(
        created_at__gte=now - timedelta(days=schedule.window_days + 1)
    ).only("id", "clinic_id", "created_at")
    homes = HomeProgramme.objects.filter(
        status__in=(ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED)
    ).only("id", "clinic_id", "patient_id", "started_on")
    courses = Course.objects.filter(
        status=CourseStatus.ACTIVE, protocol_id__in=list(schedule.protocols)
    ).only("id", "clinic_id", "patient_id", "started_on", "protocol_id")
    if clinic_ids is not None:
        recent = recent.filter(clinic_id__in=clinic_ids)
        homes = homes.filter(clinic_id__in=clinic_ids)
        courses = courses.filter(clinic_id__in=clinic_ids)
    zones = {c.pk: clinic_zone(c) for c in Clinic.objects.only("id", "time_zone")}
    for patient in recent:
        clinic_of[patient.pk] = patient.clinic_id
        start = local_date(patient.created_at, zones[patient.clinic_id])
        anchors[patient.pk].append(core.ScreenAnchor(core.INTAKE, patient.pk, start))
    for home in homes:
        clinic_of[home.patient_id] = home.clinic_id
        anchors[home.patient_id].append(core.ScreenAnchor(core.AT_HOME, home.pk, home.started_on))
    for course in courses:
        clinic_of[course.patient_id] = course.clinic_id
        anchors[course.patient_id].append(
            core.ScreenAnchor(core.PROTOCOL, course.pk, course.started_on, course.protocol_id)
        )
    planned = []
    for patient_id, own in anchors.items():
        clinic_id = clinic_of[patient_id]
        zone = zones[clinic_id]
        slots = core.screens_due(schedule=schedule, anchors=own, today=local_date(now, zone))
        for slot in slots:
            course_id = slot.ref if slot.kind == core.PROTOCOL else None
            planned += [
                QuestionnaireAssignment(
                    clinic_id=clinic_id,
                    patient_id=patient_id,
                    instrument_id=instrument_id,
                    trigger=AssignmentTrigger.SCREEN,
                    slot=slot.key,
                    course_id=course_id,
                    opens_at=_morning(slot.opens_on, zone),
                    due_by=_morning(slot.closes_on, zone),
                )
                for instrument_id in slot.instruments
                if instrument_id in sendable
            ]
    return planned
