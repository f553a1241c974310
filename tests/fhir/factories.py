"""A patient record with something of every kind the FHIR server serves, made through services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from ketacare.accounts.roles import Role
from ketacare.fhir.models import TokenScope
from ketacare.patients.models import Patient
from ketacare.patients.services import chart_section_save, measurement_record
from ketacare.scheduling.models import Chair
from ketacare.treatment.models import AdverseEvent
from tests.outcomes.factories import phq9_answers, response_row
from tests.treatment.factories import Team, actor, check_in, walk_to

CHART = {
    "diagnoses": {
        "items": [
            {"icd10": "F33.1", "description": "Major depressive disorder, recurrent, moderate"},
            {"icd10": "F41.1", "description": "Generalized anxiety disorder", "status": "resolved"},
        ]
    },
    "psychiatric_history": {"conditions": ["suicide_attempt"], "other": ["panic attacks"]},
    "allergies": {"items": [{"substance": "penicillin", "reaction": "rash", "severity": "mild"}]},
    "medicines": {
        "items": [{"generic_name": "sertraline", "dose": "100 mg", "frequency": "daily"}]
    },
}


def fhir_client(world: Any, user: Any, scopes: str | None = None) -> Client:
    """A client sending the user's bearer token (with these SMART scopes, if given)."""
    token = world.token_for(user)
    if scopes is not None:
        from ketacare.accounts.models import ApiToken, hash_token

        row = ApiToken.objects.get(key_hash=hash_token(token))
        TokenScope.objects.update_or_create(token=row, defaults={"scopes": scopes})
    return Client(headers={"Authorization": f"Bearer {token}"})


def clinical_record(
    clinic: Any, patient: Patient, staff: dict[str, Any], *, weights: int = 3, phq9: int = 3
) -> dict[str, Any]:
    """Chart lists, baseline vitals, measurements, PHQ-9s, a dosed session and an adverse event."""
    nurse = actor(staff["nurse"], clinic, Role.NURSE)
    for section, data in CHART.items():
        chart_section_save(
            actor=nurse, patient_id=patient.pk, section=section, version=0, data=data
        )
    chart_section_save(
        actor=nurse,
        patient_id=patient.pk,
        section="baseline_vitals",
        version=0,
        data={
            "measured_at": (timezone.now() - timedelta(days=40)).isoformat(),
            "systolic_mmhg": 128,
            "diastolic_mmhg": 82,
            "heart_rate_bpm": 72,
            "spo2_percent": 98,
            "respiratory_rate": 14,
            "temperature_c": "36.8",
        },
    )
    today = timezone.now().date()
    measurement_record(
        actor=nurse,
        patient_id=patient.pk,
        measured_on=today - timedelta(days=60),
        height_cm=Decimal("170.0"),
    )
    for n in range(weights):
        measurement_record(
            actor=nurse,
            patient_id=patient.pk,
            measured_on=today - timedelta(days=50 - n),
            weight_kg=Decimal("70.0") + n,
        )
    for n in range(phq9):
        response_row(patient, "phq9", phq9_answers(20 - n), timezone.now() - timedelta(days=30 - n))
    response_row(patient, "gad7", [1] * 7, timezone.now() - timedelta(days=29))
    Chair.objects.get_or_create(clinic=clinic, room="Room 1", label="Chair 1")
    team = Team.of(clinic, staff)
    session = walk_to(team, check_in(team, patient, staff), "observation")
    adverse = AdverseEvent.objects.create(
        clinic=clinic,
        session=session,
        kind="nausea_vomiting",
        severity="mild",
        onset_at=timezone.now(),
        description="Nausea after the infusion",
        intervention="Ondansetron",
        outcome="resolving",
        recorded_by=staff["nurse"],
        recorded_at=timezone.now(),
    )
    return {"session": session, "adverse_event": adverse, "day": timezone.localdate()}
