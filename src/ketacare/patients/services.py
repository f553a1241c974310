"""Writes to patients: each one transactional, audited, and version-checked."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Conflict
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_get_for_actor

EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "email",
    "phone",
)


def _next_mrn(clinic_id: int) -> str:
    count = Patient.objects.filter(clinic_id=clinic_id).count()
    return f"KC{count + 1:06d}"


@transaction.atomic
def patient_create(*, actor: Actor, mrn: str = "", **fields: Any) -> Patient:
    """Register a patient in the actor's clinic; an MRN is assigned when none is given."""
    actor.require(Permission.PATIENT_CREATE)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown patient fields: {', '.join(sorted(unknown))}")
    mrn = mrn or _next_mrn(actor.clinic_id)
    if Patient.objects.filter(clinic_id=actor.clinic_id, mrn=mrn).exists():
        raise Conflict(f"MRN {mrn} is already used in this clinic.", field="mrn")
    try:
        with transaction.atomic():
            patient = Patient.objects.create(clinic=actor.clinic, mrn=mrn, **fields)
    except IntegrityError as exc:  # two registrations racing for the same MRN
        raise Conflict(f"MRN {mrn} is already used in this clinic.", field="mrn") from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="patient",
        object_id=patient.pk,
        patient_id=patient.pk,
        detail={"fields": sorted(fields)},
    )
    return patient


@transaction.atomic
def patient_update(
    *, actor: Actor, patient_id: int, version: int, changes: dict[str, Any]
) -> Patient:
    """Change a patient's demographics if nobody changed them since `version` was read."""
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.PATIENT_EDIT, audit=False
    )
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown patient fields: {', '.join(sorted(unknown))}")
    changed = {k: v for k, v in changes.items() if getattr(patient, k) != v}
    # The version check and the write are one statement, so two editors cannot both win.
    updated = Patient.objects.filter(
        pk=patient.pk, clinic_id=actor.clinic_id, version=version
    ).update(version=F("version") + 1, updated_at=timezone.now(), **changed)
    if updated == 0:
        raise Conflict(
            f"This patient was changed by someone else (you edited version {version}, "
            f"the record is now at version {patient.version}). Reload and apply your change again.",
            field="version",
        )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="patient",
        object_id=patient.pk,
        patient_id=patient.pk,
        detail={"changed": sorted(changed), "from_version": version},
    )
    patient.refresh_from_db()
    return patient
