"""Writes to patients and their charts: each one transactional, audited, and version-checked."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pydantic
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.plausibility import PreviousWeight, check_weight
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.kernel.idempotency import replayed
from ketacare.kernel.versions import ensure_version, stale_version
from ketacare.patients.duplicates import duplicates_message, patient_duplicates_find
from ketacare.patients.models import (
    HEIGHT_CM_RANGE,
    WEIGHT_KG_RANGE,
    BodyMeasurement,
    ChartSection,
    ChartSectionRevision,
    IntakeStatus,
    Patient,
)
from ketacare.patients.sections import SECTIONS, SectionData
from ketacare.patients.selectors import (
    clinic_today,
    intake_progress_of,
    latest_height_cm,
    latest_weight_dated,
    patient_get_for_write,
)

EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "email",
    "phone",
)


def _next_mrn(clinic: Clinic) -> str:
    """The clinic's next MRN in its one format: the clinic's letter and five digits (N00016)."""
    prefix = (clinic.slug[:1] or "K").upper()
    taken = set(
        Patient.objects.filter(clinic_id=clinic.pk, mrn__startswith=prefix).values_list(
            "mrn", flat=True
        )
    )
    number = Patient.objects.filter(clinic_id=clinic.pk).count() + 1
    while f"{prefix}{number:05d}" in taken:
        number += 1
    return f"{prefix}{number:05d}"


@transaction.atomic
def patient_create(
    *,
    actor: Actor,
    mrn: str = "",
    idempotency_key: str = "",
    confirm_not_duplicate: bool = False,
    **fields: Any,
) -> Patient:
    """Register a patient in the actor's clinic; an MRN is assigned when none is given.

    A resubmitted form (the same idempotency key) returns the chart it created the first time.
    A chart with the same name and birth date, phone or email is refused as a possible duplicate
    (code `possible_duplicate`) unless the caller confirms this is a different person.
    """
    actor.require(Permission.PATIENT_CREATE)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown patient fields: {', '.join(sorted(unknown))}")
    idempotency_key = idempotency_key.strip()[:64]
    # A retried registration answers with the patient it registered: any key match is the same
    # submission, since a new patient has no other identity to compare yet.
    earlier = replayed(
        Patient, clinic_id=actor.clinic_id, key=idempotency_key, same=lambda _row: True
    )
    if earlier is not None:
        return earlier
    if not confirm_not_duplicate:
        duplicates = patient_duplicates_find(
            actor=actor,
            given_name=fields.get("given_name", ""),
            family_name=fields.get("family_name", ""),
            date_of_birth=fields.get("date_of_birth"),
            phone=fields.get("phone", ""),
            email=fields.get("email", ""),
        )
        if duplicates:
            raise Conflict(
                duplicates_message(duplicates),
                field="confirm_not_duplicate",
                code="possible_duplicate",
            )
    mrn = mrn or _next_mrn(actor.clinic)
    if Patient.objects.filter(clinic_id=actor.clinic_id, mrn=mrn).exists():
        raise Conflict(f"MRN {mrn} is already used in this clinic.", field="mrn")
    try:
        with transaction.atomic():
            patient = Patient.objects.create(
                clinic=actor.clinic, mrn=mrn, idempotency_key=idempotency_key, **fields
            )
    except IntegrityError as exc:  # two registrations racing for the same MRN or key
        earlier = (
            Patient.objects.filter(
                clinic_id=actor.clinic_id, idempotency_key=idempotency_key
            ).first()
            if idempotency_key
            else None
        )
        if earlier is not None:
            return earlier
        raise Conflict(f"MRN {mrn} is already used in this clinic.", field="mrn") from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="patient",
        object_id=patient.pk,
        patient_id=patient.pk,
        detail={"fields": sorted(fields), "duplicate_confirmed": confirm_not_duplicate},
    )
    _record_demographics(actor=actor, patient=patient, changed=sorted(fields))
    return patient


@transaction.atomic
def patient_update(
    *, actor: Actor, patient_id: int, version: int, changes: dict[str, Any]
) -> Patient:
    """Change a patient's demographics if nobody changed them since `version` was read."""
    patient = patient_get_for_write(
        actor=actor, patient_id=patient_id, permission=Permission.PATIENT_EDIT
    )
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown patient fields: {', '.join(sorted(unknown))}")
    changed = {k: v for k, v in changes.items() if getattr(patient, k) != v}
    # The version check and the write are one statement, so two editors cannot both win.
    updated = Patient.objects.filter(
        pk=patient.pk, clinic_id=actor.clinic_id, version=version
    ).update(version=F("version") + 1, updated_at=clock.now(), **changed)
    if updated == 0:
        raise stale_version("patient", seen=version, current=patient.version)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="patient",
        object_id=patient.pk,
        patient_id=patient.pk,
        detail={"changed": sorted(changed), "from_version": version},
    )
    patient.refresh_from_db()
    if changed:
        _record_demographics(actor=actor, patient=patient, changed=sorted(changed))
    return patient


def _demographics_snapshot(patient: Patient) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name in EDITABLE_FIELDS
        for value in [getattr(patient, name)]
    }


def _record_demographics(*, actor: Actor, patient: Patient, changed: list[str]) -> None:
    """Demographics keep their history like every other section: one revision per version."""
    ChartSectionRevision.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        section="demographics",
        version=patient.version,
        data=_demographics_snapshot(patient),
        changed_fields=changed,
        changed_by=actor.user,
        changed_at=clock.now(),
    )


# --- chart sections -----------------------------------------------------------------------------


def _mark_intake_started(patient: Patient) -> None:
    # A separate UPDATE that leaves `version` alone: it must not make a demographics form stale.
    Patient.objects.filter(pk=patient.pk, intake_status=IntakeStatus.NOT_STARTED).update(
        intake_status=IntakeStatus.IN_PROGRESS
    )


def _validated(section: str, data: dict[str, Any] | SectionData) -> dict[str, Any]:
    schema = SECTIONS[section].schema
    try:
        model = data if isinstance(data, schema) else schema.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        raise Refused(
            f"{SECTIONS[section].label}: {field + ': ' if field else ''}{first['msg']}",
            field=field or section,
        ) from exc
    challenged = model.challenges()
    if challenged:
        field = challenged[0][0]
        raise Refused(
            f"{SECTIONS[section].label}: "
            + " ".join(message for _, message in challenged)
            + " Re-measure; if it is right, confirm it.",
            field=field,
            code="implausible_measurement",
        )
    stored: dict[str, Any] = model.model_dump(mode="json")
    return stored


@transaction.atomic
def chart_section_save(
    *,
    actor: Actor,
    patient_id: int,
    section: str,
    version: int,
    data: dict[str, Any] | SectionData,
    at: datetime | None = None,
) -> ChartSection:
    """Replace one chart section if nobody changed it since `version` (0 = not recorded yet).

    The data is validated by the section's schema; the change is kept as a revision naming the
    fields that changed, and audited. Saving unchanged data writes nothing. `at` backdates the
    change for imports and demo data (default: now).
    """
    spec = SECTIONS.get(section)
    if spec is None:
        raise Refused(f"Unknown chart section {section!r}.", field="section")
    patient = patient_get_for_write(
        actor=actor, patient_id=patient_id, permission=spec.edit_permission
    )
    stored = _validated(section, data)
    now = at or clock.now()
    current = ChartSection.objects.filter(
        clinic_id=actor.clinic_id, patient=patient, section=section
    ).first()
    if current is None:
        if version != 0:
            raise Conflict(
                f"{spec.label} has not been recorded yet; send version 0 to record it.",
                field="version",
            )
        try:
            with transaction.atomic():
                row = ChartSection.objects.create(
                    clinic_id=actor.clinic_id,
                    patient=patient,
                    section=section,
                    data=stored,
                    version=1,
                    updated_at=now,
                    updated_by=actor.user,
                )
        except IntegrityError as exc:  # someone recorded it first
            raise Conflict(
                f"{spec.label} was just recorded by someone else. Reload and apply your change.",
                field="version",
            ) from exc
        changed = sorted(stored)
    else:
        if version == 0:
            raise Conflict(
                f"{spec.label} was recorded by someone else since you opened the form (it is "
                f"now at version {current.version}). Reload and apply your change again.",
                field="version",
            )
        ensure_version(f"chart section ({spec.label})", seen=version, current=current.version)
        changed = sorted(
            k for k in stored.keys() | current.data.keys() if stored.get(k) != current.data.get(k)
        )
        if not changed:
            return current
        updated = ChartSection.objects.filter(pk=current.pk, version=version).update(
            data=stored, version=F("version") + 1, updated_at=now, updated_by=actor.user
        )
        if updated == 0:
            raise Conflict(
                f"{spec.label} was changed by someone else just now. Reload and apply your change.",
                field="version",
            )
        row = ChartSection.objects.select_related("updated_by").get(pk=current.pk)
    ChartSectionRevision.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        section=section,
        version=row.version,
        data=stored,
        changed_fields=changed,
        changed_by=actor.user,
        changed_at=now,
    )
    _mark_intake_started(patient)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if row.version == 1 else AuditAction.UPDATE,
        object_type="chart_section",
        object_id=row.pk,
        patient_id=patient.pk,
        detail={"section": section, "version": row.version, "changed": changed},
    )
    return row


# --- measurements ------------------------------------------------------------------------------


def _in_range(value: Decimal | None, bounds: tuple[int, int], field: str, unit: str) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        raise Refused(
            f"{field.split('_')[0].capitalize()} must be between {bounds[0]} and {bounds[1]} "
            f"{unit}; check for a typing error.",
            field=field,
        )


@transaction.atomic
def measurement_record(
    *,
    actor: Actor,
    patient_id: int,
    measured_on: date,
    height_cm: Decimal | None = None,
    weight_kg: Decimal | None = None,
    confirm_implausible: bool = False,
) -> BodyMeasurement:
    """Record a dated height and/or weight (dosing uses the latest).

    The core challenges a weight more than its policy percentage from the chart's recent weight,
    or one giving an implausible BMI (165 kg at 163 cm): refused unless re-measured and confirmed.
    """
    patient = patient_get_for_write(
        actor=actor, patient_id=patient_id, permission=Permission.CHART_EDIT
    )
    if height_cm is None and weight_kg is None:
        raise Refused("Give a height, a weight, or both.", field="weight_kg")
    if measured_on > clinic_today(patient):
        raise Refused("The measurement date cannot be in the future.", field="measured_on")
    _in_range(height_cm, HEIGHT_CM_RANGE, "height_cm", "cm")
    _in_range(weight_kg, WEIGHT_KG_RANGE, "weight_kg", "kg")
    if weight_kg is not None and not confirm_implausible:
        last = latest_weight_dated(patient=patient)
        check = check_weight(
            value=weight_kg,
            unit="kg",
            on=measured_on,
            previous=PreviousWeight(last[0], last[1]) if last else None,
            height_cm=height_cm if height_cm is not None else latest_height_cm(patient=patient),
        )
        if check.challenges:
            raise Refused(
                " ".join(c.message for c in check.challenges),
                field="weight_kg",
                code="implausible_measurement",
            )
    measurement = BodyMeasurement.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        measured_on=measured_on,
        height_cm=None if height_cm is None else Decimal(height_cm).quantize(Decimal("0.1")),
        weight_kg=None if weight_kg is None else Decimal(weight_kg).quantize(Decimal("0.1")),
        recorded_by=actor.user,
    )
    _mark_intake_started(patient)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="body_measurement",
        object_id=measurement.pk,
        patient_id=patient.pk,
        detail={
            "measured_on": measured_on.isoformat(),
            "height_cm": str(measurement.height_cm) if height_cm is not None else None,
            "weight_kg": str(measurement.weight_kg) if weight_kg is not None else None,
        },
    )
    return measurement


@transaction.atomic
def measurement_void(*, actor: Actor, measurement_id: int, reason: str) -> BodyMeasurement:
    """Strike out a measurement entered in error; it stays visible, marked, and stops counting."""
    actor.require(Permission.CHART_EDIT)
    measurement = (
        BodyMeasurement.objects.filter(clinic_id=actor.clinic_id, pk=measurement_id)
        .select_related("patient")
        .first()
    )
    if measurement is None:
        raise Http404("Measurement not found.")
    reason = reason.strip()
    if not reason:
        raise Refused("Say why the measurement is void (e.g. 'typed 54 for 45').", field="reason")
    now = clock.now()
    updated = BodyMeasurement.objects.filter(pk=measurement.pk, voided_at__isnull=True).update(
        voided_at=now, voided_by=actor.user, void_reason=reason
    )
    if updated == 0:
        raise Conflict("This measurement is already void.", field="measurement_id")
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="body_measurement",
        object_id=measurement.pk,
        patient_id=measurement.patient_id,
        detail={"voided": True, "reason": reason},
    )
    measurement.refresh_from_db()
    return measurement


# --- intake -------------------------------------------------------------------------------------


@transaction.atomic
def intake_complete(*, actor: Actor, patient_id: int, at: datetime | None = None) -> Patient:
    """Sign off the intake as complete; refused while a step is still to do."""
    patient = patient_get_for_write(
        actor=actor, patient_id=patient_id, permission=Permission.CHART_EDIT
    )
    progress = intake_progress_of(patient=patient)
    if progress.missing:
        raise Refused(
            "The intake is not complete yet: "
            + ", ".join(step.label.lower() for step in progress.missing)
            + " still to do.",
            field="intake",
            code="intake_incomplete",
        )
    if patient.intake_status == IntakeStatus.COMPLETE:
        return patient
    now = at or clock.now()
    Patient.objects.filter(pk=patient.pk).update(
        intake_status=IntakeStatus.COMPLETE, intake_completed_at=now, intake_completed_by=actor.user
    )
    audit_record(
        actor=actor,
        action=AuditAction.SIGN,
        object_type="intake",
        object_id=patient.pk,
        patient_id=patient.pk,
        detail={"status": IntakeStatus.COMPLETE},
    )
    patient.refresh_from_db()
    return patient
