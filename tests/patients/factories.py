"""Factories and ready-made charts for the patients app."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from ketacare.patients.models import BodyMeasurement, ChartSection, Patient
from ketacare.patients.sections import SECTIONS


class BodyMeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BodyMeasurement

    patient = factory.SubFactory("tests.factories.PatientFactory")
    clinic = factory.LazyAttribute(lambda o: o.patient.clinic)
    measured_on = factory.LazyFunction(lambda: date.today() - timedelta(days=1))  # noqa: DTZ011
    height_cm = Decimal("170.0")
    weight_kg = Decimal("70.0")
    recorded_by = factory.SubFactory("tests.factories.UserFactory")


def eligible_chart() -> dict[str, dict[str, Any]]:
    """Every section of a chart that screens eligible for IV ketamine and esketamine (TRD)."""
    return {
        "contact": {
            "address": "1 Example Street",
            "emergency_contact_name": "Sam Example",
            "emergency_contact_relationship": "partner",
            "emergency_contact_phone": "555-0100",
            "escort_name": "Sam Example",
            "escort_phone": "555-0100",
        },
        "diagnoses": {
            "items": [
                {"icd10": "F33.1", "description": "Major depressive disorder, recurrent, moderate"}
            ]
        },
        "psychiatric_history": {"none_known": True},
        "medical_history": {"none_known": True},
        "allergies": {"none_known": True},
        "medicines": {"items": [{"generic_name": "sertraline", "dose": "150 mg"}]},
        "substance_use": {"none_known": True},
        "pregnancy": {"pregnant": False, "breastfeeding": False},
        "antidepressant_trials": {
            "items": [
                {
                    "drug": "sertraline",
                    "weeks": "8",
                    "outcome": "no_response",
                    "adequate_dose": True,
                    "current_episode": True,
                },
                {
                    "drug": "venlafaxine",
                    "weeks": "10",
                    "outcome": "partial_response",
                    "adequate_dose": True,
                    "current_episode": True,
                },
            ]
        },
        "baseline_vitals": {
            "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "systolic_mmhg": 122,
            "diastolic_mmhg": 78,
            "heart_rate_bpm": 70,
        },
    }


def chart_for(
    patient: Patient, by: Any, sections: dict[str, dict[str, Any]] | None = None
) -> dict[str, ChartSection]:
    """Write chart sections straight to the database (validated by their schemas)."""
    sections = eligible_chart() if sections is None else sections
    rows = {}
    for key, data in sections.items():
        stored = SECTIONS[key].schema.model_validate(data).model_dump(mode="json")
        rows[key], _ = ChartSection.objects.update_or_create(
            clinic=patient.clinic,
            patient=patient,
            section=key,
            defaults={"data": stored, "updated_by": by, "updated_at": timezone.now()},
        )
    return rows


def complete_chart(patient: Patient, by: Any, **overrides: dict[str, Any] | None) -> None:
    """An eligible chart with height and weight; `overrides` replace (None: drop) sections."""
    sections = {**eligible_chart(), **overrides}
    chart_for(patient, by, {key: data for key, data in sections.items() if data is not None})
    BodyMeasurementFactory(patient=patient, recorded_by=by)
