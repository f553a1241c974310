"""Demo charts for the 15 demo patients of a clinic, by their stage in the treatment journey.

1: intake not started; 2-3: intake in progress; 4-15: complete charts (5 with a benzodiazepine
for a "needs review" screening, 14 with an aortic aneurysm for an "ineligible" one). Charts of
patients 7-15 date from well before their courses so the courses can start in the past.
Every name and value here is invented. Running it twice leaves one copy.
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.kernel import clock
from ketacare.patients.models import BodyMeasurement, ChartSection, IntakeStatus, Patient
from ketacare.patients.services import chart_section_save, intake_complete, measurement_record

DIAGNOSES = (
    ("F33.1", "Major depressive disorder, recurrent, moderate"),
    ("F33.2", "Major depressive disorder, recurrent, severe without psychotic features"),
    ("F32.2", "Major depressive disorder, single episode, severe without psychotic features"),
)
SECOND_DIAGNOSES = (
    ("F41.1", "Generalized anxiety disorder"),
    ("F43.10", "Post-traumatic stress disorder, unspecified"),
    None,
)
CURRENT_ANTIDEPRESSANTS = ("sertraline", "escitalopram", "bupropion", "mirtazapine", "duloxetine")
TRIAL_DRUGS = ("fluoxetine", "citalopram", "venlafaxine", "paroxetine", "vortioxetine")
FIRST_NAMES = ("Alex", "Robin", "Jamie", "Chris", "Morgan", "Taylor", "Casey", "Jordan")
RELATIONSHIPS = ("partner", "sister", "brother", "friend", "mother", "father", "spouse")

# How long before today each patient's intake happened (stages with courses need history).
DAYS_AGO = {4: 20, 5: 18, 6: 30, 7: 75, 8: 75, 9: 70, 10: 70, 11: 80, 12: 80, 13: 200, 14: 14}
DEFAULT_DAYS_AGO = 150  # the booster patient (15) and anyone else with a complete chart


def _actor(clinic: Clinic, user: User) -> Actor:
    return Actor(user=user, clinic=clinic, role=Role.NURSE, client_address=None, channel="demo")


def chart_sections(patient: Patient, position: int, rng: random.Random) -> dict[str, Any]:
    """The demo chart of the patient at this position (1-15), section by section."""
    contact_name = rng.choice(FIRST_NAMES)
    diagnosis = rng.choice(DIAGNOSES)
    second = rng.choice(SECOND_DIAGNOSES)
    current = rng.choice(CURRENT_ANTIDEPRESSANTS)
    first_trial, second_trial = rng.sample(TRIAL_DRUGS, 2)
    medicines: list[dict[str, Any]] = [
        {"generic_name": current, "dose": "as prescribed", "frequency": "daily"}
    ]
    if position == 5:
        medicines.append(
            {"generic_name": "lorazepam", "brand_name": "Ativan", "frequency": "as needed"}
        )
    medical: dict[str, Any] = {"none_known": True}
    if position == 14:
        medical = {"conditions": ["aortic_aneurysm"], "notes": "Under vascular surgery follow-up."}
    sections: dict[str, Any] = {
        "contact": {
            "address": f"{rng.randint(2, 980)} Demo Street, Example City",
            "preferred_contact": rng.choice(["phone", "text", "email"]),
            "emergency_contact_name": f"{contact_name} {patient.family_name}",
            "emergency_contact_relationship": rng.choice(RELATIONSHIPS),
            "emergency_contact_phone": f"555-02{rng.randint(10, 99)}",
            "escort_name": f"{contact_name} {patient.family_name}",
            "escort_phone": f"555-02{rng.randint(10, 99)}",
        },
        "diagnoses": {
            "items": [
                {"icd10": diagnosis[0], "description": diagnosis[1], "primary": True},
                *([{"icd10": second[0], "description": second[1]}] if second else []),
            ]
        },
        "psychiatric_history": {"none_known": True}
        if rng.random() < 0.5
        else {"conditions": ["psychiatric_admission"]},
        "medical_history": medical,
        "allergies": {"none_known": True}
        if rng.random() < 0.7
        else {"items": [{"substance": "penicillin", "reaction": "rash", "severity": "mild"}]},
        "medicines": {"items": medicines},
        "substance_use": {"none_known": True},
        "antidepressant_trials": {
            "items": [
                {
                    "drug": first_trial,
                    "weeks": str(rng.randint(6, 12)),
                    "outcome": "no_response",
                    "adequate_dose": True,
                    "current_episode": True,
                },
                {
                    "drug": second_trial,
                    "weeks": str(rng.randint(6, 16)),
                    "outcome": "partial_response",
                    "adequate_dose": True,
                    "current_episode": True,
                },
            ]
        },
    }
    if patient.sex != "male":
        sections["pregnancy"] = {"pregnant": False, "breastfeeding": False}
    return sections


def _vitals(at: datetime, rng: random.Random) -> dict[str, Any]:
    return {
        "measured_at": at.isoformat(),
        "systolic_mmhg": rng.randint(108, 134),
        "diastolic_mmhg": rng.randint(66, 84),
        "heart_rate_bpm": rng.randint(60, 88),
        "spo2_percent": rng.randint(96, 99),
    }


def _size(patient: Patient, rng: random.Random) -> tuple[Decimal, Decimal]:
    if patient.sex == "male":
        return Decimal(rng.randint(168, 190)), Decimal(rng.randint(68, 98))
    return Decimal(rng.randint(155, 176)), Decimal(rng.randint(52, 84))


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Give the clinic's demo patients their charts, as far as their stage needs."""
    nurse = staff.get(Role.NURSE)
    if nurse is None:
        return
    actor = _actor(clinic, nurse)
    patients = list(clinic.patients.order_by("mrn")[:15])
    for position, patient in enumerate(patients, start=1):
        # Draw the same numbers whether or not the chart exists, so a rerun changes nothing.
        sections = chart_sections(patient, position, rng)
        height, weight = _size(patient, rng)
        vitals_rng = random.Random(rng.random())  # noqa: S311 - demo data
        if position == 1:
            continue
        days_ago = DAYS_AGO.get(position, DEFAULT_DAYS_AGO) if position >= 4 else 3
        at = clock.now() - timedelta(days=days_ago)
        wanted = ["contact"] if position == 2 else list(sections)
        if position == 3:
            wanted = ["contact", "diagnoses", "psychiatric_history", "medical_history", "allergies"]
        recorded = set(
            ChartSection.objects.filter(clinic=clinic, patient=patient).values_list(
                "section", flat=True
            )
        )
        for key in wanted:
            if key not in recorded:
                chart_section_save(
                    actor=actor,
                    patient_id=patient.pk,
                    section=key,
                    version=0,
                    data=sections[key],
                    at=at,
                )
        if not BodyMeasurement.objects.filter(clinic=clinic, patient=patient).exists():
            measurement_record(
                actor=actor,
                patient_id=patient.pk,
                measured_on=at.date(),
                height_cm=height,
                weight_kg=weight,
            )
        if position < 4:
            continue
        if "baseline_vitals" not in recorded:
            chart_section_save(
                actor=actor,
                patient_id=patient.pk,
                section="baseline_vitals",
                version=0,
                data=_vitals(at, vitals_rng),
                at=at,
            )
        patient.refresh_from_db()
        if patient.intake_status != IntakeStatus.COMPLETE:
            intake_complete(actor=actor, patient_id=patient.pk, at=at)
