"""Signed consents in FHIR: Consent."""

from __future__ import annotations

from django.db.models import Q
from django.db.models.functions import Coalesce

from ketacare.accounts.permissions import Permission
from ketacare.consent.models import ConsentSignature
from ketacare.fhir import codes as c
from ketacare.fhir.registry import (
    BuildContext,
    Include,
    Resource,
    ResourceType,
    SearchParam,
    Source,
    instant,
    meta,
    reference,
    register,
)


def consent_resource(row: ConsentSignature, ctx: BuildContext) -> Resource:
    """A signed consent: the exact version signed (by its SHA-256) and any withdrawal."""
    version = row.document_version
    return {
        "resourceType": "Consent",
        "id": str(row.pk),
        "meta": meta(row.withdrawn_at or row.recorded_at, None),
        "identifier": [{"system": "urn:ketacare:consent-text-sha256", "value": row.body_sha256}],
        "status": "inactive" if row.withdrawn_at else "active",
        "scope": {"coding": [c.coding(c.CONSENT_SCOPE, "treatment", "Treatment")]},
        "category": [{"coding": [c.coding(c.LOINC, c.PATIENT_CONSENT, "Patient Consent")]}],
        "patient": reference("Patient", row.patient_id),
        "dateTime": instant(row.signed_at),
        "performer": [reference("Patient", row.patient_id)],
        "organization": [reference("Organization", ctx.clinic.pk)],
        "sourceAttachment": {
            "contentType": "text/plain",
            "title": f"{version.title or version.document_id} (version {version.number})",
            "creation": instant(version.published_at),
        },
        "policyRule": {
            "text": f"Clinic consent for the {row.document_version.document.route} route"
        },
        "provision": {"type": "permit"} if not row.withdrawn_at else {"type": "deny"},
    }


register(
    ResourceType(
        name="Consent",
        sources=(
            Source(
                prefix="",
                model=ConsentSignature,
                build=consent_resource,
                date_lookup="signed_at",
                updated=Coalesce("withdrawn_at", "recorded_at"),
                related=("document_version", "document_version__document"),
                status=lambda v: (
                    Q(withdrawn_at__isnull=v == "active") if v in {"active", "inactive"} else None
                ),
            ),
        ),
        permission=Permission.CONSENT_VIEW,
        params=(
            SearchParam("patient", "reference"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(Include("patient", "patient", "Patient"),),
        documentation="Signed treatment consents; withdrawn ones are inactive.",
    )
)
