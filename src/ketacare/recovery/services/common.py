"""Helpers the recovery services share: text checks, dates, the patient of the actor, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from ketacare.accounts.access import Actor
from ketacare.audit.services import audit_record
from ketacare.errors import Refused
from ketacare.kernel.clinic_time import clinic_today
from ketacare.patients.models import Patient


def text(value: str | None, field: str, *, required: bool = True, limit: int = 2000) -> str:
    """The stripped text, refused when required and empty or when too long."""
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise Refused("This field is required.", field=field, code="required")
    if len(cleaned) > limit:
        raise Refused(f"At most {limit} characters.", field=field, code="too_long")
    return cleaned


def today_of(actor: Actor) -> date:
    """The clinic's local date now."""
    return clinic_today(actor.clinic)


def not_future(day: date, field: str, actor: Actor) -> date:
    """Refuse a day after the clinic's today."""
    if day > today_of(actor):
        raise Refused("This date is in the future.", field=field, code="in_the_future")
    return day


def patient_of(actor: Actor, patient_id: int) -> Patient:
    """The actor's clinic's patient, or a refusal naming patient_id (another clinic's: same)."""
    patient = (
        Patient.objects.select_related("clinic")
        .filter(pk=patient_id, clinic_id=actor.clinic_id)
        .first()
    )
    if patient is None:
        raise Refused("No such patient.", field="patient_id", code="not_found")
    return patient


def audit(
    actor: Actor | None,
    action: str,
    kind: str,
    pk: object,
    patient: Patient,
    detail: dict[str, Any] | None = None,
    **portal: Any,
) -> None:
    """Append the audit entry of a recovery read or write."""
    audit_record(
        actor=actor,
        action=action,
        object_type=kind,
        object_id=pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        detail=detail,
        **portal,
    )
