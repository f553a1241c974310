"""Records of a clinic for the route walker: a programme and its prescription."""

from datetime import date

from django.utils import timezone

from ketacare.athome.models import HomePrescription, HomeProgramme


def _programme(clinic, patient, staff):
    found = HomeProgramme.objects.filter(patient=patient).first()
    if found is not None:
        return found.pk
    return HomeProgramme.objects.create(
        clinic=clinic, patient=patient, evaluation_on=date(2026, 11, 1),
        evaluation_modality="audio_video", consent_signature_id=0, dose_mg=50, doses_planned=8,
        started_on=date(2026, 11, 2), sitter_name="Sam Sitter", enrolled_by=staff["nurse"],
        enrolled_at=timezone.now(),
    ).pk  # fmt: skip


def _prescription(clinic, patient, staff):
    programme_id = _programme(clinic, patient, staff)
    return HomePrescription.objects.create(
        clinic=clinic, programme_id=programme_id, patient=patient, prescriber=staff["prescriber"],
        issued_on=date(2026, 11, 2), drug="Ketamine HCl", strength_mg=50, form="troche",
        quantity=4, directions="One troche weekly.", refills=1, pharmacy="Pharmacy",
        visit_modality="audio_video", patient_state="CA", dea_registration="AB1234563",
        dea_registration_state="CA", pdmp_checked_on=date(2026, 11, 2),
        pdmp_result="no_findings", legal_basis="telemedicine_flexibility",
        rules_period="flexibilities_through_2026", signed_at=timezone.now(),
        content_sha256="0" * 64,
    ).pk  # fmt: skip


FACTORIES = {"programme_id": _programme, "prescription_id": _prescription}
