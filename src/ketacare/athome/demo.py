"""Demo at-home programme: demo patient 4 screened eligible for the home protocol and enrolled,
a signed prescription, one dose taken with its tracker, the sitter's and patient's links issued.
Running it twice leaves one copy."""

import dataclasses
import logging
import random
from datetime import timedelta

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.athome import services
from ketacare.athome.models import HomeProgramme
from ketacare.consent.selectors import latest_versions
from ketacare.consent.services import consent_signature_record
from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.patients.models import Patient
from ketacare.screening.models import ScreeningStatus
from ketacare.screening.services import screening_run, screening_sign

logger = logging.getLogger(__name__)

# Patient 4's chart is complete and draws no caution: enrolment at home needs an eligible
# screening for the home protocol's route (the core's `check_enrolment`).
POSITION = 4
TRACKER = {
    "dissociation": 2, "nausea": 1, "side_effects": 0, "mood": 1, "adverse_event": 0,
    "urinary_symptoms": 0, "use_outside_plan": 0, "sitter_stayed": 1,
}  # fmt: skip


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Enrol demo patient 4 in the at-home programme with one dose behind them."""
    nurse, prescriber = staff.get(Role.NURSE), staff.get(Role.PRESCRIBER)
    patients = list(clinic.patients.order_by("mrn")[:15])
    if nurse is None or prescriber is None or len(patients) < POSITION:
        return
    patient = patients[POSITION - 1]
    if HomeProgramme.objects.filter(patient=patient).exists():
        return
    version = latest_versions(clinic_id=clinic.pk).get("home_programme")
    if version is None:
        return
    as_nurse = Actor(user=nurse, clinic=clinic, role=Role.NURSE, channel="demo")
    as_prescriber = Actor(user=prescriber, clinic=clinic, role=Role.PRESCRIBER, channel="demo")
    now = clock.now()
    screening = screening_run(
        actor=as_nurse, patient=patient, protocol_id="sublingual_home", at=now - timedelta(days=2)
    )
    if screening.status != ScreeningStatus.ELIGIBLE:
        logger.info("demo: %s is %s for the home protocol; not enrolled", patient.mrn, screening)
        return
    screening_sign(
        # stamped at the signing: the demo prescriber re-authenticates as a prescriber would
        actor=dataclasses.replace(as_prescriber, reauthenticated_at=clock.wall_now()),
        screening=screening,
        at=now - timedelta(days=2, minutes=-30),
    )
    try:
        _enrol_with_one_dose(clinic, patient, version.pk, as_nurse, as_prescriber, nurse.pk, rng)
    except KetaCareError as refusal:
        logger.info("demo: no home programme for %s: %s", patient.mrn, refusal)


def _enrol_with_one_dose(
    clinic: Clinic,
    patient: Patient,
    version_id: int,
    as_nurse: Actor,
    as_prescriber: Actor,
    nurse_id: int,
    rng: random.Random,
) -> None:
    now = clock.now()
    consent_signature_record(
        actor=as_nurse, patient=patient, document_version_id=version_id,
        signed_name=patient.display_name, signed_at=now, witnessed_by_id=nurse_id,
        idempotency_key=f"demo-{clinic.slug}-{patient.mrn}-home",
    )  # fmt: skip
    programme = services.programme_enrol(
        actor=as_nurse, patient_id=patient.pk, evaluation_on=now.date() - timedelta(days=2),
        evaluation_modality="audio_video", sitter_name="Jordan (partner)",
        idempotency_key=f"demo-{clinic.slug}-{patient.mrn}-enrol",
    )  # fmt: skip
    services.prescription_issue(
        actor=dataclasses.replace(as_prescriber, reauthenticated_at=clock.wall_now()),
        programme_id=programme.pk, issued_on=now.date(),
        drug="Ketamine HCl", strength_mg="50", form="sublingual troche", quantity=4,
        directions="Dissolve one troche under the tongue on dose days, with your sitter present.",
        refills=2, pharmacy="Demo Compounding Pharmacy, 2 Demo Street",
        visit_modality="audio_video", patient_state="CA", dea_registration="BD1234563",
        dea_registration_state="CA", in_person_evaluation_on=None, pdmp_checked_on=now.date(),
        pdmp_result="no_findings", legal_basis="telemedicine_flexibility",
        idempotency_key=f"demo-{clinic.slug}-{patient.mrn}-rx",
    )  # fmt: skip
    services.supply_dispense(
        actor=as_nurse, programme_id=programme.pk,
        idempotency_key=f"demo-{clinic.slug}-{patient.mrn}-fill",
    )  # fmt: skip
    patient_link, sitter_link = services.programme_links_issue(
        actor=as_nurse, programme_id=programme.pk
    )
    dose = services.home_dose_open(link=patient_link.link)
    services.home_dose_sitter_attest(link=sitter_link.link, dose_id=dose.pk)
    services.home_dose_gate(
        link=patient_link.link, dose_id=dose.pk, systolic=124 + rng.randint(0, 10),
        diastolic=78, heart_rate=72, fasting=True, no_alcohol_or_substances=True, safe_place=True,
    )  # fmt: skip
    services.home_dose_take(link=patient_link.link, dose_id=dose.pk)
    answers: dict[str, int | None] = dict(TRACKER)
    services.home_dose_tracker_submit(link=patient_link.link, dose_id=dose.pk, answers=answers)
