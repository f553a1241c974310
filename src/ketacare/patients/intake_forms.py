"""Intake forms the patient fills in on the portal before the first visit, and their review.

What the patient writes (medical history, current medicines, allergies, contact and emergency
contact, phone and e-mail) is kept as an `IntakeSubmission`, outside the chart. Staff read it
beside the chart, with each medicine as the vocabulary reads it (a name it does not know is
flagged for review), and accept the parts they checked: each is written to the chart through
the chart's own services, as a normal audited change by that member of staff. Nothing the
patient typed reaches the chart unreviewed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.vocabulary import Reading, load_vocabulary
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.kernel.versions import ensure_version
from ketacare.patients.models import (
    ChartSection,
    IntakeSubmission,
    IntakeSubmissionStatus,
    Patient,
)
from ketacare.patients.sections import SECTIONS
from ketacare.patients.selectors import patient_get_for_actor, patient_lock_for_write
from ketacare.patients.services import _validated, chart_section_save, patient_update

# The chart sections the portal's intake form fills, in the order the patient meets them.
PORTAL_SECTIONS = ("contact", "medical_history", "medicines", "allergies")
# Phone and e-mail are demographics, accepted together as one part.
DEMOGRAPHICS = "phone_email"
ACCEPTABLE = (*PORTAL_SECTIONS, DEMOGRAPHICS)
PART_LABELS = {
    **{key: SECTIONS[key].label for key in PORTAL_SECTIONS},
    DEMOGRAPHICS: "Phone and e-mail",
}
# Who the audit trail names for a patient's own writes through a portal link (the same name the
# questionnaire portal uses).
PORTAL_USERNAME = "patient-portal"
MAX_NOTE = 2000


def _demographics(phone: str, email: str) -> dict[str, str]:
    phone, email = (phone or "").strip(), (email or "").strip()
    if len(phone) > 32 or len(email) > 254:
        raise Refused("That phone number or e-mail address is too long.", field="phone")
    if email and ("@" not in email or " " in email):
        raise Refused("Check the e-mail address.", field="email")
    return {key: value for key, value in (("phone", phone), ("email", email)) if value}


@transaction.atomic
def intake_submission_submit(
    *,
    patient: Patient,
    sections: Mapping[str, Any],
    phone: str,
    email: str,
    idempotency_key: str,
    client_address: str | None,
    now: datetime,
) -> IntakeSubmission:
    """Keep what the patient filled in for staff to review; nothing is written to the chart.

    Each part is checked against its chart section's schema, so what staff accept is valid
    chart data. The portal link was checked by the caller. The same key answers with the first
    submission (a double tap sends once).
    """
    patient_lock_for_write(clinic_id=patient.clinic_id, patient_id=patient.pk)
    if not idempotency_key or len(idempotency_key) > 64:
        raise Refused("The form expired; open the link again.", field="idempotency_key")
    earlier = IntakeSubmission.objects.filter(
        clinic_id=patient.clinic_id, idempotency_key=idempotency_key
    ).first()
    if earlier is not None:
        if earlier.patient_id != patient.pk:
            raise Http404("Form not found.")
        return earlier
    data: dict[str, Any] = {}
    for key in PORTAL_SECTIONS:
        if sections.get(key) is not None:
            data[key] = _validated(key, sections[key])
    demographics = _demographics(phone, email)
    if demographics:
        data[DEMOGRAPHICS] = demographics
    if not data:
        raise Refused("Fill in at least one part of the form.", field="sections", code="empty_form")
    try:
        with transaction.atomic():
            submission = IntakeSubmission.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                data=data,
                idempotency_key=idempotency_key,
                submitted_at=now,
                client_address=client_address,
            )
    except IntegrityError:  # the same key sent twice at once: the first one stands
        return IntakeSubmission.objects.get(
            clinic_id=patient.clinic_id, idempotency_key=idempotency_key
        )
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="intake_submission",
        object_id=submission.pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        username=PORTAL_USERNAME,
        client_address=client_address,
        detail={"parts": sorted(data)},
    )
    return submission


def _locked(
    actor: Actor, patient_id: int, submission_id: int, version: int | None
) -> IntakeSubmission:
    submission = (
        IntakeSubmission.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(pk=submission_id, clinic_id=actor.clinic_id, patient_id=patient_id)
        .first()
    )
    if submission is None:
        raise Http404("Intake form not found.")
    # Two members of staff reviewing one form at once: the second decided on a version that
    # is gone, and is refused before anything reaches the chart.
    ensure_version("intake form", seen=version, current=submission.version)
    if submission.status != IntakeSubmissionStatus.SUBMITTED:
        raise Conflict(
            f"This form was already reviewed ({submission.get_status_display().lower()}).",
            field="status",
            code="intake_already_reviewed",
        )
    return submission


def _review(
    actor: Actor, submission: IntakeSubmission, status: str, accepted: list[str], note: str
) -> IntakeSubmission:
    submission.status = status
    submission.reviewed_by = actor.user
    submission.reviewed_at = clock.now()
    submission.accepted_sections = accepted
    submission.review_note = note
    submission.version += 1
    submission.save(
        update_fields=[
            "status",
            "reviewed_by",
            "reviewed_at",
            "accepted_sections",
            "review_note",
            "version",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="intake_submission",
        object_id=submission.pk,
        patient_id=submission.patient_id,
        detail={"status": status, "accepted": accepted, "note": note},
    )
    return submission


@transaction.atomic
def intake_submission_accept(
    *,
    actor: Actor,
    patient_id: int,
    submission_id: int,
    version: int | None,
    parts: Sequence[str],
    note: str = "",
) -> IntakeSubmission:
    """Write the parts staff checked into the chart, each as a chart change of theirs.

    Parts not checked are not written (the form is still closed as reviewed); a section the
    chart already holds is replaced by the reviewed answer, with the change kept in its history.
    """
    actor.require(Permission.CHART_EDIT)
    submission = _locked(actor, patient_id, submission_id, version)
    unknown = [part for part in parts if part not in ACCEPTABLE]
    if unknown:
        raise Refused("Choose parts of this form.", field="parts", code="choice")
    chosen = [part for part in ACCEPTABLE if part in parts and part in submission.data]
    if not chosen:
        raise Refused(
            "Tick at least one part to accept into the chart, or decline the form.",
            field="parts",
            code="intake_nothing_chosen",
        )
    for part in chosen:
        if part == DEMOGRAPHICS:
            patient = patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient_id)
            patient_update(
                actor=actor,
                patient_id=patient_id,
                version=patient.version,
                changes=dict(submission.data[DEMOGRAPHICS]),
            )
            continue
        current = ChartSection.objects.filter(
            clinic_id=actor.clinic_id, patient_id=patient_id, section=part
        ).first()
        chart_section_save(
            actor=actor,
            patient_id=patient_id,
            section=part,
            version=current.version if current else 0,
            data=submission.data[part],
        )
    return _review(
        actor, submission, IntakeSubmissionStatus.ACCEPTED, chosen, (note or "").strip()[:MAX_NOTE]
    )


@transaction.atomic
def intake_submission_decline(
    *, actor: Actor, patient_id: int, submission_id: int, version: int | None, reason: str
) -> IntakeSubmission:
    """Close a form without writing any of it to the chart (wrong patient, a test), with why."""
    actor.require(Permission.CHART_EDIT)
    submission = _locked(actor, patient_id, submission_id, version)
    text = (reason or "").strip()
    if len(text) < 5:
        raise Refused("Say why the form is declined.", field="reason", code="reason_required")
    return _review(actor, submission, IntakeSubmissionStatus.DECLINED, [], text[:MAX_NOTE])


# --- reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeReview:
    """One submitted form beside the chart: each part, what the chart holds, how medicines read."""

    patient: Patient
    submission: IntakeSubmission
    parts: list[dict[str, Any]]
    medicines: list[Reading]
    allergies: list[Reading]
    conditions: list[Reading]

    @property
    def needs_review(self) -> list[Reading]:
        """Medicines, allergies and condition codes the vocabulary does not hold: check them
        with the patient (fail closed: an unknown code is shown as recorded, never dropped)."""
        return [r for r in (*self.medicines, *self.allergies, *self.conditions) if not r.understood]


def intake_submissions_waiting(*, actor: Actor, patient: Patient) -> list[IntakeSubmission]:
    """The patient's forms waiting for staff review (newest first)."""
    actor.require(Permission.CHART_VIEW)
    return list(
        IntakeSubmission.objects.filter(
            clinic_id=actor.clinic_id, patient=patient, status=IntakeSubmissionStatus.SUBMITTED
        ).order_by("-submitted_at", "-id")
    )


def intake_submission_review(*, actor: Actor, patient_id: int, submission_id: int) -> IntakeReview:
    """A submitted form for review beside the chart, audited as a read."""
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.CHART_VIEW, audit=False
    )
    submission = IntakeSubmission.objects.filter(
        pk=submission_id, clinic_id=actor.clinic_id, patient=patient
    ).first()
    if submission is None:
        raise Http404("Intake form not found.")
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="intake_submission",
        object_id=submission.pk,
        patient_id=patient.pk,
    )
    stored = {
        row.section: row.data
        for row in ChartSection.objects.filter(
            clinic_id=actor.clinic_id, patient=patient, section__in=PORTAL_SECTIONS
        )
    }
    parts = [
        {
            "key": key,
            "label": PART_LABELS[key],
            "submitted": submission.data[key],
            "in_chart": (
                {k: getattr(patient, k) for k in ("phone", "email")}
                if key == DEMOGRAPHICS
                else stored.get(key)
            ),
        }
        for key in ACCEPTABLE
        if key in submission.data
    ]
    vocabulary = load_vocabulary()
    medicines = [
        vocabulary.read_medicine(item["generic_name"])
        for item in submission.data.get("medicines", {}).get("items", [])
    ]
    allergies = [
        vocabulary.read_allergy(item["substance"])
        for item in submission.data.get("allergies", {}).get("items", [])
    ]
    conditions = [
        vocabulary.read_condition_code(str(code))
        for code in submission.data.get("medical_history", {}).get("conditions", [])
    ]
    return IntakeReview(patient, submission, parts, medicines, allergies, conditions)
