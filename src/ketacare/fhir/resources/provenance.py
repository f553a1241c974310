"""Provenance for signed records: who signed a consent, who ordered and verified a dose."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q

from ketacare.accounts.permissions import Permission
from ketacare.consent.models import ConsentSignature
from ketacare.fhir import codes as c
from ketacare.fhir.registry import (
    BuildContext,
    Resource,
    ResourceType,
    SearchParam,
    Source,
    instant,
    meta,
    reference,
    register,
)
from ketacare.treatment.models import DoseOrder


def _agent(kind: str, who: dict[str, Any]) -> dict[str, Any]:
    return {"type": {"coding": [c.coding(c.PROVENANCE_AGENT, kind)]}, "who": who}


def consent_provenance(row: ConsentSignature, ctx: BuildContext) -> Resource:
    """Who signed, witnessed and recorded a consent, and when."""
    return {
        "resourceType": "Provenance",
        "id": f"consent-{row.pk}",
        "meta": meta(row.recorded_at, c.us_core("us-core-provenance")),
        "target": [reference("Consent", row.pk)],
        "recorded": instant(row.recorded_at),
        "occurredDateTime": instant(row.signed_at),
        "agent": [
            _agent("author", reference("Patient", row.patient_id, row.signed_name)),
            _agent("verifier", reference("Practitioner", row.witnessed_by_id)),
            _agent("enterer", reference("Practitioner", row.recorded_by_id)),
        ],
        "signature": [
            {
                "type": [
                    c.coding(
                        "urn:iso-astm:E1762-95:2013", "1.2.840.10065.1.12.1.7", "Consent Signature"
                    )
                ],
                "when": instant(row.signed_at),
                "who": reference("Patient", row.patient_id),
            }
        ],
    }


def dose_provenance(row: DoseOrder, ctx: BuildContext) -> Resource:
    """The order and the second clinician's verification behind an administration."""
    return {
        "resourceType": "Provenance",
        "id": f"dose-{row.pk}",
        "meta": meta(row.verified_at, c.us_core("us-core-provenance")),
        "target": [reference("MedicationAdministration", row.administration.pk)],
        "recorded": instant(row.verified_at),
        "occurredDateTime": instant(row.ordered_at),
        "agent": [
            _agent("author", reference("Practitioner", row.ordered_by_id)),
            _agent("verifier", reference("Practitioner", row.verified_by_id)),
        ],
    }


register(
    ResourceType(
        name="Provenance",
        sources=(
            Source(
                prefix="consent",
                model=ConsentSignature,
                build=consent_provenance,
                date_lookup="recorded_at",
                updated=F("recorded_at"),
            ),
            Source(
                prefix="dose",
                model=DoseOrder,
                build=dose_provenance,
                base=Q(verified_at__isnull=False, administration__isnull=False),
                patient_lookup="session__patient_id",
                date_lookup="verified_at",
                updated=F("verified_at"),
                related=("administration",),
            ),
        ),
        permission=Permission.CHART_VIEW,
        params=(SearchParam("patient", "reference"), SearchParam("recorded", "date")),
        profile=c.us_core("us-core-provenance"),
        documentation="Who signed a consent and who ordered and verified each dose given.",
    )
)
