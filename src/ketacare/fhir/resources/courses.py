"""Courses and bookings in FHIR: CarePlan (a course) and Appointment."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from ketacare.accounts.permissions import Permission
from ketacare.fhir import codes as c
from ketacare.fhir.registry import (
    SUBJECT_INCLUDES,
    SUBJECT_PARAMS,
    BuildContext,
    Include,
    Resource,
    ResourceType,
    SearchParam,
    Source,
    instant,
    latest,
    meta,
    reference,
    register,
    status_filter,
)
from ketacare.scheduling.models import Appointment, Course

# --- CarePlan (a course) ------------------------------------------------------------------------

CAREPLAN_STATUS = {"active": "active", "completed": "completed", "stopped": "revoked"}


def care_plan_resource(row: Course, ctx: BuildContext) -> Resource:
    """A course under one protocol version, as a CarePlan."""
    period: dict[str, Any] = {"start": row.started_on.isoformat()}
    if row.ended_at:
        period["end"] = instant(row.ended_at)
    out: Resource = {
        "resourceType": "CarePlan",
        "id": str(row.pk),
        "meta": meta(row._fhir_updated, None),  # type: ignore[attr-defined]
        "status": CAREPLAN_STATUS.get(row.status, "unknown"),
        "intent": "plan",
        "category": [{"coding": [c.coding(c.LOCAL, f"course-{row.kind}", row.get_kind_display())]}],
        "title": f"{row.get_kind_display()} course: {row.protocol_id} v{row.protocol_version}",
        "description": (
            f"{row.route} route, {row.planned_sessions or 'open-ended'} planned sessions"
            + (f"; ended: {row.end_reason}" if row.end_reason else "")
        ),
        "subject": reference("Patient", row.patient_id),
        "period": period,
        "created": instant(row.created_at),
        "author": reference("Practitioner", row.created_by_id),
    }
    if row.parent_id:
        out["basedOn"] = [reference("CarePlan", row.parent_id)]
    return out


register(
    ResourceType(
        name="CarePlan",
        sources=(
            Source(
                prefix="",
                model=Course,
                build=care_plan_resource,
                date_lookup="started_on",
                updated=latest("created_at", "ended_at"),
                status=status_filter(CAREPLAN_STATUS),
            ),
        ),
        permission=Permission.SCHEDULE_VIEW,
        params=(
            *SUBJECT_PARAMS,
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(*SUBJECT_INCLUDES,),
        documentation="Treatment courses (induction, booster, maintenance) under a protocol.",
    )
)


# --- Appointment -------------------------------------------------------------------------------

APPOINTMENT_STATUS = {
    "booked": "booked",
    "arrived": "arrived",
    "in_session": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
    "not_dosed": "fulfilled",
}


def appointment_resource(row: Appointment, ctx: BuildContext) -> Resource:
    """A booked time in a chair for a patient."""
    participants: list[dict[str, Any]] = [
        {"actor": reference("Patient", row.patient_id), "status": "accepted"}
    ]
    if row.chair_id:
        participants.append({"actor": reference("Location", row.chair_id), "status": "accepted"})
    if row.therapist_id:  # an integration session's therapist (Practitioner ids are user ids)
        participants.append(
            {"actor": reference("Practitioner", row.therapist_id), "status": "accepted"}
        )
    out: Resource = {
        "resourceType": "Appointment",
        "id": str(row.pk),
        "meta": meta(row.created_at, None),
        "status": APPOINTMENT_STATUS.get(row.status, "booked"),
        "appointmentType": {"text": row.get_kind_display()},
        "start": instant(row.starts_at),
        "end": instant(row.ends_at),
        "created": instant(row.created_at),
        "participant": participants,
    }
    if row.cancel_reason:
        out["cancelationReason"] = {"text": row.cancel_reason}
    if row.course_id:
        out["basedOn"] = [{"display": f"Course {row.course_id}"}]
    if row.status == "not_dosed":
        out["comment"] = "Attended, not dosed."
    return out


register(
    ResourceType(
        name="Appointment",
        sources=(
            Source(
                prefix="",
                model=Appointment,
                build=appointment_resource,
                date_lookup="starts_at",
                updated=F("created_at"),
                status=status_filter(APPOINTMENT_STATUS),
            ),
        ),
        permission=Permission.SCHEDULE_VIEW,
        params=(
            SearchParam("patient", "reference"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(
            Include("patient", "participant.actor", "Patient"),
            Include("location", "participant.actor", "Location"),
        ),
        documentation="Booked chair times (treatment, booster, consultation, integration).",
    )
)
