"""Relapse-prevention plans: versions written by staff or by the patient in the portal, and
the therapist's reviews."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.versions import stale_version
from ketacare.outcomes.models import PortalLink, PortalLinkPurpose
from ketacare.patients.models import Patient
from ketacare.recovery.models import RecoveryPlanReview, RecoveryPlanVersion
from ketacare.recovery.services.common import audit, patient_of, text

PLAN_FIELDS = (
    "triggers",
    "warning_signs",
    "coping",
    "people",
    "crisis_contacts",
    "habits",
    "reasons",
)
PLAN_FIELD_LIMIT = 2000
PORTAL_USERNAME = "patient-portal"


def _write(
    *,
    patient: Patient,
    fields: Mapping[str, str],
    based_on: int,
    by_patient: bool,
    actor: Actor | None,
    client_address: str | None = None,
) -> RecoveryPlanVersion:
    cleaned = {
        name: text(fields.get(name), name, required=False, limit=PLAN_FIELD_LIMIT)
        for name in PLAN_FIELDS
    }
    if not any(cleaned.values()):
        raise Refused("Write at least one part of the plan.", field="triggers", code="required")
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one writer at a time
    latest = (
        RecoveryPlanVersion.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .order_by("-number")
        .first()
    )
    current = latest.number if latest else 0
    if based_on != current:
        raise stale_version("recovery plan", seen=based_on, current=current, field="based_on")
    if latest is not None and all(getattr(latest, n) == cleaned[n] for n in PLAN_FIELDS):
        raise Refused("Nothing changed.", field="triggers", code="nothing_changed")
    version = RecoveryPlanVersion.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        number=current + 1,
        written_by_patient=by_patient,
        author=actor.user if actor else None,
        written_at=clock.now(),
        **cleaned,
    )
    extra = {} if actor else {"username": PORTAL_USERNAME, "client_address": client_address}
    audit(
        actor,
        AuditAction.CREATE,
        "recovery_plan",
        version.pk,
        patient,
        {"number": version.number, "by_patient": by_patient},
        **extra,
    )
    return version


@transaction.atomic
def plan_version_write(
    *, actor: Actor, patient_id: int, fields: Mapping[str, str], based_on: int
) -> RecoveryPlanVersion:
    """A new version of the patient's plan written with staff (based on the version shown)."""
    actor.require(Permission.RECOVERY_PLAN_WRITE)
    patient = patient_of(actor, patient_id)
    return _write(patient=patient, fields=fields, based_on=based_on, by_patient=False, actor=actor)


@transaction.atomic
def plan_version_write_by_patient(
    *, link: PortalLink, fields: Mapping[str, str], based_on: int, client_address: str | None
) -> RecoveryPlanVersion:
    """A new version the patient wrote in the portal (their journal link opens the plan)."""
    if link.purpose != PortalLinkPurpose.JOURNAL:
        raise Refused("This link does not open the plan.", field="link", code="wrong_link")
    return _write(
        patient=link.patient,
        fields=fields,
        based_on=based_on,
        by_patient=True,
        actor=None,
        client_address=client_address,
    )


@transaction.atomic
def plan_review_record(
    *, actor: Actor, patient_id: int, version_number: int, note: str
) -> RecoveryPlanReview:
    """The therapist's review of the current plan version."""
    actor.require(Permission.RECOVERY_PLAN_REVIEW)
    patient = patient_of(actor, patient_id)
    latest = (
        RecoveryPlanVersion.objects.filter(clinic_id=actor.clinic_id, patient=patient)
        .order_by("-number")
        .first()
    )
    if latest is None:
        raise Refused("There is no plan to review.", field="version_number", code="no_plan")
    if latest.number != version_number:
        raise stale_version(
            "recovery plan", seen=version_number, current=latest.number, field="version_number"
        )
    review = RecoveryPlanReview.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        version=latest,
        note=text(note, "note", limit=PLAN_FIELD_LIMIT),
        reviewed_by=actor.user,
        reviewed_at=clock.now(),
    )
    audit(
        actor,
        AuditAction.CREATE,
        "recovery_plan_review",
        review.pk,
        patient,
        {"number": latest.number},
    )
    return review
