"""Factories for scheduling tests: chairs, and the screening and consent a course rests on.

Screenings and consent signatures are made directly as rows (the screening and consent
apps' services are not needed to test scheduling).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from typing import Any

import factory
from django.utils import timezone

from ketacare.consent.models import ConsentDocument, ConsentDocumentVersion, ConsentSignature
from ketacare.patients.models import Patient
from ketacare.scheduling.models import (
    Appointment,
    AppointmentKind,
    Chair,
    ClinicSchedule,
    Course,
    CourseKind,
)
from ketacare.scheduling.selectors import at_local, clinic_zone
from ketacare.screening.models import Screening, ScreeningStatus

ROUTE_PROTOCOL = {"iv": "iv_induction_6x", "esketamine": "esketamine_trd", "im": "im_titration"}


class ChairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chair

    room = "Room 1"
    label = factory.Sequence(lambda n: f"Chair {n}")


def screening_for(
    patient: Patient,
    signer: Any,
    *,
    route: str = "iv",
    protocol_id: str | None = None,
    status: str = ScreeningStatus.ELIGIBLE,
    signed: bool = True,
    reason: str = "",
    cosigner: Any = None,
    facts: dict[str, Any] | None = None,
    facts_used: list[str] | None = None,
) -> Screening:
    """A screening of the patient for a route; signed (eligible) unless told otherwise."""
    now = timezone.now()
    return Screening.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        protocol_id=protocol_id or ROUTE_PROTOCOL.get(route, ""),
        protocol_version="2025.1",
        route=route,
        status=status,
        facts=facts or {},
        facts_used=facts_used or [],
        run_by=signer,
        run_at=now,
        signed_by=signer if signed else None,
        signed_at=now if signed else None,
        sign_reason=reason,
        cosigned_by=cosigner,
        cosigned_at=now if cosigner else None,
    )


def consent_version(clinic: Any, publisher: Any, *, route: str = "iv") -> ConsentDocumentVersion:
    """A new published version of the clinic's consent document for the route."""
    document, _ = ConsentDocument.objects.get_or_create(
        clinic=clinic, route=route, defaults={"title": f"Consent to {route} ketamine"}
    )
    number = document.versions.count() + 1
    body = f"Consent text for {route}, version {number}."
    return ConsentDocumentVersion.objects.create(
        clinic=clinic,
        document=document,
        number=number,
        body=body,
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        published_at=timezone.now(),
        published_by=publisher,
    )


def consent_for(patient: Patient, recorder: Any, *, route: str = "iv") -> ConsentSignature:
    """The patient's signature on the route's latest consent text (one is published if none)."""
    version = (
        ConsentDocumentVersion.objects.filter(clinic_id=patient.clinic_id, document__route=route)
        .order_by("-number")
        .first()
    ) or consent_version(patient.clinic, recorder, route=route)
    live = ConsentSignature.objects.filter(
        patient=patient,
        document_version=version,
        withdrawn_at__isnull=True,
        entered_in_error_at__isnull=True,
    ).first()
    if live is not None:  # one live signature per text
        return live
    return ConsentSignature.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        document_version=version,
        signed_name=patient.display_name,
        signed_at=timezone.now(),
        body_sha256=version.body_sha256,
        witnessed_by=recorder,
        recorded_by=recorder,
    )


def ready_for(patient: Patient, staff: dict[str, Any], *, route: str = "iv") -> None:
    """A signed eligible screening and a signed consent for the route."""
    screening_for(patient, staff["prescriber"], route=route)
    consent_for(patient, staff["nurse"], route=route)


def open_every_day(clinic: Any) -> ClinicSchedule:
    """The clinic treats seven days a week, 07:00 to 20:00."""
    schedule, _ = ClinicSchedule.objects.update_or_create(
        clinic=clinic,
        defaults={"open_weekdays": list(range(7)), "opens_at": time(7), "closes_at": time(20)},
    )
    return schedule


def next_monday(clinic: Any, *, weeks_ahead: int = 1) -> date:
    """A Monday at least a week after today in the clinic's time zone."""
    today = timezone.now().astimezone(clinic_zone(clinic)).date()
    return today + timedelta(days=7 * weeks_ahead - today.weekday())


def local(clinic: Any, day: date, hour: int, minute: int = 0) -> datetime:
    """An aware datetime at a clinic-local wall-clock time."""
    return at_local(day, time(hour, minute), clinic_zone(clinic))


def course_row(
    patient: Patient,
    staff: dict[str, Any],
    *,
    protocol_id: str = "iv_induction_6x",
    route: str = "iv",
    planned: int | None = 6,
    kind: str = CourseKind.INDUCTION,
    parent: Course | None = None,
    status: str = "active",
    end_reason: str = "",
) -> Course:
    """A course row made directly (with its screening and consent), for reads and walks."""
    screening = screening_for(patient, staff["prescriber"], route=route, protocol_id=protocol_id)
    consent = consent_for(patient, staff["nurse"], route=route)
    return Course.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        protocol_id=protocol_id,
        protocol_version="2025.1",
        route=route,
        kind=kind,
        parent=parent,
        status=status,
        end_reason=end_reason,
        screening=screening,
        consent=consent,
        planned_sessions=planned,
        started_on=timezone.now().date(),
        created_by=staff["prescriber"],
    )


def appointment_row(
    course: Course | None,
    chair: Chair | None,
    starts_at: datetime,
    *,
    patient: Patient | None = None,
    minutes: int = 70,
    kind: str = AppointmentKind.TREATMENT,
    status: str = "booked",
    by: Any = None,
) -> Appointment:
    """An appointment row made directly (no checks), for reads and walks."""
    owner = patient or (course.patient if course else None)
    assert owner is not None
    return Appointment.objects.create(
        clinic_id=owner.clinic_id,
        patient=owner,
        course=course,
        chair=chair,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        status=status,
        cancel_reason="test" if status == "cancelled" else "",
        created_by=by or (course.created_by if course else None),
    )
