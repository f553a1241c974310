"""Reads of patients, scoped to the actor's clinic and audited."""

from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.patients.models import BodyMeasurement, Patient


def patients_of_clinic(*, actor: Actor) -> QuerySet[Patient]:
    """Every query for patients starts here: the actor's clinic only."""
    return Patient.objects.filter(clinic_id=actor.clinic_id)


def patient_get_for_actor(
    *,
    actor: Actor,
    patient_id: int,
    permission: Permission = Permission.PATIENT_VIEW,
    audit: bool = True,
) -> Patient:
    """One patient of the actor's clinic; another clinic's patient is not found (404)."""
    actor.require(permission)
    patient = patients_of_clinic(actor=actor).filter(pk=patient_id).first()
    if patient is None:
        raise Http404("Patient not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="patient",
            object_id=patient.pk,
            patient_id=patient.pk,
        )
    return patient


def patient_list(
    *, actor: Actor, search: str = "", limit: int = 50, offset: int = 0
) -> list[Patient]:
    """A page of the clinic's patients, optionally filtered by name or MRN; the read is audited."""
    actor.require(Permission.PATIENT_LIST)
    patients = patients_of_clinic(actor=actor)
    search = search.strip()
    if search:
        patients = patients.filter(
            Q(family_name__icontains=search)
            | Q(given_name__icontains=search)
            | Q(mrn__iexact=search)
        )
    page = list(patients.order_by("family_name", "given_name", "id")[offset : offset + limit])
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="patient",
        detail={"search": search, "offset": offset, "patient_ids": [p.pk for p in page]},
    )
    return page


def latest_height_cm(*, patient: Patient) -> Decimal | None:
    """The most recent recorded height, or None when the chart has none."""
    return (
        BodyMeasurement.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, height_cm__isnull=False
        )
        .order_by("-measured_on", "-id")
        .values_list("height_cm", flat=True)
        .first()
    )


def latest_weight_kg(*, patient: Patient) -> Decimal | None:
    """The most recent recorded weight, or None."""
    return (
        BodyMeasurement.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, weight_kg__isnull=False
        )
        .order_by("-measured_on", "-id")
        .values_list("weight_kg", flat=True)
        .first()
    )
