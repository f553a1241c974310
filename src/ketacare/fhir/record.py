"""A patient's own record: every resource of their compartment as a FHIR Bundle, and a PDF.

The PDF is a readable summary drawn from the same resources (so the two never disagree):
details, diagnoses, allergies, medicines, courses, sessions with the doses given, scale scores
and the latest vital signs. Written with fpdf2's core fonts (text outside Latin-1 is replaced).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from fpdf import FPDF

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.fhir.bulk import export_resources
from ketacare.fhir.models import RecordLink
from ketacare.fhir.registry import REGISTRY, BuildContext, Resource
from ketacare.kernel import clock
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_lock_for_write

LINK_DAYS = 7
PDF_REPLACEMENTS = {
    "—": "-",
    "–": "-",
    "·": "-",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "…": "...",
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def record_link_issue(*, actor: Actor, patient_id: int, now: datetime) -> tuple[RecordLink, str]:
    """Issue a link to a patient of the actor's clinic; the raw token is returned once."""
    actor.require(Permission.RECORD_EXPORT)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        patient = patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient_id)
        link = RecordLink.objects.create(
            clinic=actor.clinic,
            patient=patient,
            token_hash=_hash(token),
            created_by=actor.user,
            created_at=now,
            expires_at=now + timedelta(days=LINK_DAYS),
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="record_link",
            object_id=link.pk,
            patient_id=patient.pk,
        )
    return link, token


def record_link_resolve(*, token: str, now: datetime) -> RecordLink | None:
    """The live link a token opens, or None (unknown, expired or revoked)."""
    return (
        RecordLink.objects.select_related("patient", "clinic")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )


def patient_bundle(patient: Patient) -> Resource:
    """Every resource about the patient, as a FHIR collection Bundle."""
    ctx = BuildContext(clinic=patient.clinic)
    patients = Patient.objects.filter(pk=patient.pk).values("pk")
    entries = []
    for name, resource_type in sorted(REGISTRY.items()):
        if not resource_type.clinic_scoped or not all(
            s.patient_lookup for s in resource_type.sources
        ):
            continue
        for resource in export_resources(resource_type, ctx, patients=patients):
            entries.append(
                {"fullUrl": f"urn:ketacare:{name}:{resource['id']}", "resource": resource}
            )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": clock.wall_now().isoformat(timespec="seconds"),
        "entry": entries,
    }


def record_download_audit(*, link: RecordLink, what: str, address: str | None) -> None:
    """The patient's own download, audited like any other read of their record."""
    audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        object_type="record_download",
        object_id=link.pk,
        patient_id=link.patient_id,
        clinic_id=link.clinic_id,
        username="patient (portal)",
        client_address=address,
        detail={"format": what},
    )


def _text(value: Any) -> str:
    text = str(value)
    for old, new in PDF_REPLACEMENTS.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def _code_text(concept: dict[str, Any] | None) -> str:
    if not concept:
        return ""
    if concept.get("text"):
        return str(concept["text"])
    codings = concept.get("coding") or [{}]
    return str(codings[0].get("display") or codings[0].get("code") or "")


class _Summary(FPDF):
    def section(self, title: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, _text(title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)

    def line_of(self, text: str) -> None:
        self.multi_cell(0, 5, _text(text), new_x="LMARGIN", new_y="NEXT")


def patient_pdf(patient: Patient, bundle: Resource) -> bytes:
    """A readable summary of the patient's record."""
    by_type: dict[str, list[Resource]] = defaultdict(list)
    for entry in bundle["entry"]:
        by_type[entry["resource"]["resourceType"]].append(entry["resource"])
    pdf = _Summary(format="A4")
    pdf.set_title(_text(f"Health record of {patient.display_name}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text(f"Health record: {patient.display_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.line_of(
        f"{patient.clinic.name} - MRN {patient.mrn} - born {patient.date_of_birth:%Y-%m-%d} - "
        f"printed {timezone.localdate(clock.wall_now()):%Y-%m-%d}"
    )
    pdf.section("Diagnoses and history")
    for condition in by_type["Condition"] or [{"code": {"text": "None recorded"}}]:
        status = _code_text(condition.get("clinicalStatus"))
        pdf.line_of(f"- {_code_text(condition.get('code'))}" + (f" ({status})" if status else ""))
    pdf.section("Allergies")
    for allergy in by_type["AllergyIntolerance"] or [{"code": {"text": "Not recorded"}}]:
        pdf.line_of(f"- {_code_text(allergy.get('code'))}")
    pdf.section("Medicines")
    for medicine in by_type["MedicationStatement"] or [
        {"medicationCodeableConcept": {"text": "None recorded"}}
    ]:
        dosage = (medicine.get("dosage") or [{}])[0].get("text", "")
        pdf.line_of(f"- {_code_text(medicine.get('medicationCodeableConcept'))} {dosage}".rstrip())
    pdf.section("Treatment courses")
    for plan in by_type["CarePlan"] or [{"title": "None"}]:
        pdf.line_of(
            f"- {plan.get('title', '')} ({plan.get('status', '')}), from "
            f"{plan.get('period', {}).get('start', '')}"
        )
    pdf.section("Doses given")
    administrations = sorted(
        by_type["MedicationAdministration"], key=lambda r: r["effectivePeriod"]["start"]
    )
    for given in administrations or [{"effectivePeriod": {"start": "None"}}]:
        dose = given.get("dosage", {}).get("dose", {})
        route = given.get("dosage", {}).get("route", {}).get("text", "")
        lot = (given.get("contained") or [{}])[0].get("batch", {}).get("lotNumber", "")
        medicine = given.get("medicationReference", {}).get("display", "")
        pdf.line_of(
            f"- {given['effectivePeriod']['start'][:16].replace('T', ' ')} {medicine} "
            f"{dose.get('value', '')} {dose.get('unit', '')} {route}"
            + (f", lot {lot}" if lot else "")
        )
    pdf.section("Rating scales")
    scales = sorted(
        (o for o in by_type["Observation"] if o["id"].startswith("scale-")),
        key=lambda o: o["effectiveDateTime"],
    )
    for obs in scales or [{"code": {"text": "None"}, "effectiveDateTime": ""}]:
        value = obs.get("valueInteger", _code_text(obs.get("valueCodeableConcept")))
        band = (obs.get("interpretation") or [{}])[0].get("text", "")
        pdf.line_of(f"- {obs['effectiveDateTime'][:10]} {_code_text(obs['code'])}: {value} {band}")
    pdf.section("Adverse events")
    for event in by_type["AdverseEvent"] or [{"event": {"text": "None recorded"}}]:
        pdf.line_of(f"- {event.get('date', '')[:10]} {_code_text(event.get('event'))}")
    pdf.section("Consents")
    for consent in by_type["Consent"] or [{"sourceAttachment": {"title": "None"}}]:
        pdf.line_of(
            f"- {consent['sourceAttachment'].get('title', '')}, signed "
            f"{consent.get('dateTime', '')[:10]} ({consent.get('status', '')})"
        )
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 8)
    pdf.line_of("The complete record, in the standard FHIR R4 format, is the JSON download.")
    return bytes(pdf.output())
