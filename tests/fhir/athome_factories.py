"""An at-home programme and its signed prescription, as rows (the athome services have their own
tests); for the FHIR MedicationRequest tests and the full record."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from ketacare.athome.models import HomePrescription, HomeProgramme


def home_prescription(
    clinic: Any,
    patient: Any,
    staff: dict[str, Any],
    *,
    drug: str = "Ketamine HCl",
    status: str = "active",
) -> HomePrescription:
    """A signed prescription of a new at-home programme of the patient, in the given state."""
    programme = HomeProgramme.objects.create(
        clinic=clinic, patient=patient, evaluation_on=date(2026, 11, 1),
        evaluation_modality="audio_video", consent_signature_id=0, dose_mg=50, doses_planned=8,
        started_on=date(2026, 11, 2), sitter_name="Sam Sitter", enrolled_by=staff["nurse"],
        enrolled_at=timezone.now(), status=status,
    )  # fmt: skip
    return HomePrescription.objects.create(
        clinic=clinic, programme=programme, patient=patient, prescriber=staff["prescriber"],
        issued_on=date(2026, 11, 2), drug=drug, strength_mg=50, form="sublingual troche",
        quantity=4, directions="One troche under the tongue once a week, with your sitter.",
        refills=1, pharmacy="Elm Street Pharmacy", visit_modality="audio_video",
        patient_state="CA", dea_registration="AB1234563", dea_registration_state="CA",
        pdmp_checked_on=date(2026, 11, 2), pdmp_result="no_findings",
        legal_basis="telemedicine_flexibility", rules_period="flexibilities_through_2026",
        signed_at=timezone.now(), content_sha256="a" * 64,
    )  # fmt: skip
