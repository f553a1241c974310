"""Fixtures of the at-home programme: a consented, enrolled patient with a signed prescription."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

COUNTER = itertools.count(1)


def key() -> str:
    return f"athome-test-{next(COUNTER):04d}"


def actor(world: Any, role: str, clinic: Any = None) -> Any:
    from tests.ledger.factories import as_actor

    users = world.staff if clinic is None or clinic == world.clinic_a else world.outsiders
    return as_actor(users[role], clinic or world.clinic_a, role)


def sign_agreement(world: Any, patient: Any, clinic: Any = None) -> Any:
    from ketacare.consent.models import ConsentDocumentVersion
    from ketacare.consent.services import consent_document_publish, consent_signature_record
    from ketacare.consent.texts import TITLES, default_body
    from ketacare.kernel import clock

    clinic = clinic or world.clinic_a
    version = ConsentDocumentVersion.objects.filter(
        clinic=clinic, document__route="home_programme"
    ).first()
    if version is None:
        version = consent_document_publish(
            actor=actor(world, "admin", clinic), route="home_programme",
            title=TITLES["home_programme"], body=default_body("home_programme"), based_on=0,
        )  # fmt: skip
    nurse = actor(world, "nurse", clinic)
    return consent_signature_record(
        actor=nurse, patient=patient, document_version_id=version.pk,
        signed_name=patient.display_name, signed_at=clock.now(),
        witnessed_by_id=nurse.user.pk, idempotency_key=key(),
    )  # fmt: skip


def screen_eligible(world: Any, patient: Any, clinic: Any = None, **change: Any) -> Any:
    """A signed screening for the home protocol's route (eligible unless `change` says else)."""
    from tests.scheduling.factories import screening_for

    users = world.staff if clinic is None or clinic == world.clinic_a else world.outsiders
    return screening_for(
        patient, users["prescriber"], route="sublingual", protocol_id="sublingual_home", **change
    )


def ready_for_home(world: Any, patient: Any, clinic: Any = None) -> None:
    """What enrolment rests on: an eligible screening and the signed programme agreement."""
    screen_eligible(world, patient, clinic)
    sign_agreement(world, patient, clinic)


def enrol(world: Any, patient: Any = None, clinic: Any = None) -> Any:
    from ketacare.athome import services
    from ketacare.kernel import clock

    patient = patient or world.patient_a
    ready_for_home(world, patient, clinic)
    return services.programme_enrol(
        actor=actor(world, "nurse", clinic), patient_id=patient.pk,
        evaluation_on=clock.now().date() - timedelta(days=1), evaluation_modality="audio_video",
        sitter_name="Sam Sitter", sitter_phone="555-0100", idempotency_key=key(),
    )  # fmt: skip


RX = {
    "drug": "Ketamine HCl", "strength_mg": "50", "form": "sublingual troche",
    "quantity": 4, "directions": "Dissolve one troche under the tongue once a week as planned.",
    "refills": 2, "pharmacy": "Compounding Pharmacy, 1 Main St", "visit_modality": "audio_video",
    "patient_state": "CA", "dea_registration": "AB1234563", "dea_registration_state": "CA",
    "in_person_evaluation_on": None, "pdmp_result": "no_findings",
    "legal_basis": "telemedicine_flexibility",
}  # fmt: skip


def prescribe(world: Any, programme: Any, issued_on: date | None = None, **change: Any) -> Any:
    from ketacare.athome import services
    from ketacare.kernel import clock

    day = issued_on or clock.now().date()
    values = {**RX, "issued_on": day, "pdmp_checked_on": day, **change}
    return services.prescription_issue(
        actor=signing(actor(world, "prescriber")), programme_id=programme.pk,
        idempotency_key=key(), **values,
    )  # fmt: skip


def signing(who: Any) -> Any:
    """The actor as after typing their password or signing PIN in this request."""
    import dataclasses

    from ketacare.kernel import clock

    return dataclasses.replace(who, reauthenticated_at=clock.wall_now())


@dataclass
class Home:
    """An enrolled patient with a prescription dispensed and both portal links."""

    programme: Any
    patient_link: Any
    sitter_link: Any


@pytest.fixture
def home(world: Any, session_clock: Any) -> Home:
    from datetime import UTC, datetime

    from ketacare.athome import services

    session_clock.travel(datetime(2026, 12, 1, 15, tzinfo=UTC) - session_clock.now())
    programme = enrol(world)
    prescribe(world, programme)
    services.supply_dispense(
        actor=actor(world, "nurse"), programme_id=programme.pk, idempotency_key=key()
    )
    patient, sitter = services.programme_links_issue(
        actor=actor(world, "nurse"), programme_id=programme.pk
    )
    return Home(programme, patient.link, sitter.link)


GOOD_GATE = {
    "systolic": 128, "diastolic": 80, "heart_rate": 74, "fasting": True,
    "no_alcohol_or_substances": True, "safe_place": True,
}  # fmt: skip
QUIET_TRACKER = {
    "dissociation": 2, "nausea": 1, "side_effects": 0, "mood": 1, "adverse_event": 0,
    "urinary_symptoms": 0, "use_outside_plan": 0, "sitter_stayed": 1,
}  # fmt: skip


def take_a_dose(home: Home, tracker: dict[str, int] | None = QUIET_TRACKER) -> Any:
    """Open, attest, pass the gate, take; then the tracker unless None."""
    from ketacare.athome import services

    dose = services.home_dose_open(link=home.patient_link)
    services.home_dose_sitter_attest(link=home.sitter_link, dose_id=dose.pk)
    services.home_dose_gate(link=home.patient_link, dose_id=dose.pk, **GOOD_GATE)
    dose = services.home_dose_take(link=home.patient_link, dose_id=dose.pk)
    if tracker is not None:
        dose = services.home_dose_tracker_submit(
            link=home.patient_link, dose_id=dose.pk, answers=tracker
        )
    return dose
