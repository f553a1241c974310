"""Duplicate charts: found at registration (name and birth date, phone, email) and merged.

A merge moves the duplicate's records onto the chart that is kept, in one transaction, and
leaves the duplicate readable (its demographics and chart history stay where they were
written) with a pointer to the kept chart. Nothing is deleted; both charts' trails name it.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.patients.models import ChartSection, ChartSectionRevision, Patient

# The chart's own history stays on the chart it was written on (append-only); sections that
# only the duplicate has are copied onto the kept chart as a new revision.
_STAYS_WITH_DUPLICATE = {ChartSectionRevision, ChartSection, Patient}


@dataclass(frozen=True)
class PossibleDuplicate:
    """An existing chart that looks like the patient being registered, and why."""

    patient: Patient
    reasons: tuple[str, ...]


def _phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    # Compare national numbers: +1 555 0100 and 555-0100 are the same phone.
    return digits[-10:]


def _name(value: str) -> str:
    return " ".join((value or "").casefold().split())


def patient_duplicates_find(
    *,
    actor: Actor,
    given_name: str,
    family_name: str,
    date_of_birth: date | None,
    phone: str = "",
    email: str = "",
    exclude_id: int | None = None,
) -> list[PossibleDuplicate]:
    """Charts of the clinic with the same name and birth date, the same phone or the same email."""
    actor.require(Permission.PATIENT_LIST)
    phone_key = _phone_digits(phone)
    email_key = (email or "").strip().casefold()
    query = Q()
    if date_of_birth is not None and given_name and family_name:
        query |= Q(date_of_birth=date_of_birth)
    if email_key:
        query |= Q(email__iexact=email_key)
    if len(phone_key) >= 7:
        query |= Q(phone__contains=phone_key[-4:])
    if not query:
        return []
    candidates = Patient.objects.filter(query, clinic_id=actor.clinic_id, merged_into__isnull=True)
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    found = []
    names = {(_name(given_name), _name(family_name)), (_name(family_name), _name(given_name))}
    for patient in candidates.order_by("family_name", "given_name", "id")[:50]:
        reasons = []
        if (
            patient.date_of_birth == date_of_birth
            and (_name(patient.given_name), _name(patient.family_name)) in names
        ):
            reasons.append("same name and date of birth")
        if len(phone_key) >= 7 and _phone_digits(patient.phone) == phone_key:
            reasons.append("same phone")
        if email_key and patient.email.strip().casefold() == email_key:
            reasons.append("same email")
        if reasons:
            found.append(PossibleDuplicate(patient=patient, reasons=tuple(reasons)))
    return found


def duplicates_message(duplicates: list[PossibleDuplicate]) -> str:
    """One sentence naming the charts a registration may duplicate."""
    listed = "; ".join(
        f"{d.patient.display_name} ({d.patient.mrn}, born {d.patient.date_of_birth:%Y-%m-%d}): "
        f"{', '.join(d.reasons)}"
        for d in duplicates
    )
    return (
        f"This may be a patient already registered — {listed}. Open the existing chart, or "
        "confirm that this is a different person."
    )


def _copy_missing_sections(*, actor: Actor, keep: Patient, duplicate: Patient) -> list[str]:
    """Sections only the duplicate recorded start the kept chart's history; both → refused."""
    kept = {
        row.section: row
        for row in ChartSection.objects.filter(clinic_id=actor.clinic_id, patient=keep)
    }
    copied, clashing = [], []
    now = clock.now()
    for row in ChartSection.objects.filter(clinic_id=actor.clinic_id, patient=duplicate):
        if row.section in kept:
            if kept[row.section].data != row.data:
                clashing.append(row.section)
            continue
        ChartSection.objects.create(
            clinic_id=actor.clinic_id,
            patient=keep,
            section=row.section,
            data=row.data,
            version=1,
            updated_by=actor.user,
            updated_at=now,
        )
        ChartSectionRevision.objects.create(
            clinic_id=actor.clinic_id,
            patient=keep,
            section=row.section,
            version=1,
            data=row.data,
            changed_fields=sorted(row.data) if isinstance(row.data, dict) else [],
            changed_by=actor.user,
            changed_at=now,
        )
        copied.append(row.section)
    if clashing:
        raise Refused(
            "Both charts record different "
            f"{', '.join(s.replace('_', ' ') for s in sorted(clashing))}; make them agree on one "
            "chart (or clear the duplicate's) before merging.",
            field="merge_id",
            code="merge_conflict",
        )
    return copied


@transaction.atomic
def patient_merge(*, actor: Actor, keep_id: int, merge_id: int, reason: str) -> Patient:
    """Merge a duplicate chart into the one kept: its records move, it stays readable, audited."""
    actor.require(Permission.PATIENT_MERGE)
    reason = reason.strip()
    if not reason:
        raise Refused("Say why these two charts are the same patient.", field="reason")
    if keep_id == merge_id:
        raise Refused("Choose two different charts.", field="merge_id", code="merge_same_chart")
    rows = {
        p.pk: p
        for p in Patient.objects.select_for_update()
        .filter(clinic_id=actor.clinic_id, pk__in=[keep_id, merge_id])
        .order_by("pk")
    }
    if keep_id not in rows or merge_id not in rows:
        raise Http404("Patient not found.")
    keep, duplicate = rows[keep_id], rows[merge_id]
    for chart, field in ((keep, "keep_id"), (duplicate, "merge_id")):
        if chart.merged_into_id is not None:
            raise Conflict(
                f"{chart.mrn} was already merged into another chart.",
                field=field,
                code="already_merged",
            )
    copied = _copy_missing_sections(actor=actor, keep=keep, duplicate=duplicate)
    moved: dict[str, int] = {}
    for relation in Patient._meta.related_objects:
        model: Any = relation.related_model
        if model in _STAYS_WITH_DUPLICATE or not relation.field.concrete:
            continue
        name = relation.field.name
        try:
            with transaction.atomic():
                count = model._default_manager.filter(**{name: duplicate}).update(**{name: keep})
        except IntegrityError as exc:
            raise Refused(
                f"Both charts hold {model._meta.verbose_name_plural} that cannot be combined; "
                "resolve them on one chart first.",
                field="merge_id",
                code="merge_conflict",
            ) from exc
        if count:
            moved[model._meta.label_lower] = count
    Patient.objects.filter(pk=duplicate.pk).update(
        merged_into=keep, merged_at=clock.now(), merged_by=actor.user, merge_reason=reason
    )
    detail = {
        "kept": keep.mrn,
        "merged": duplicate.mrn,
        "reason": reason,
        "moved": moved,
        "sections_copied": copied,
    }
    for patient in (keep, duplicate):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="patient_merge",
            object_id=duplicate.pk,
            patient_id=patient.pk,
            detail=detail,
        )
    keep.refresh_from_db()
    return keep
