"""Every place that decides or shows readiness gives the same answer, for a table of patients.

Course start (the service's gate), check-in (the service, in a savepoint), the readiness panel
on the course form and the patient page's readiness card all ask the core's `readiness.assess`
over the one selector's facts. Before, check-in accepted an out-of-date screening that course
start refused and the chart showed as not allowing treatment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ketacare.clinical.protocols import get_protocol
from ketacare.consent.models import ConsentSignature
from ketacare.errors import KetaCareError
from ketacare.scheduling.services import course_readiness
from ketacare.screening.models import Screening
from ketacare.treatment import services
from tests.factories import PatientFactory
from tests.ledger.support import rems_ready
from tests.scheduling.factories import consent_for, consent_version, screening_for
from tests.treatment.factories import PROTOCOL_ROUTE, course_of, key, todays_appointment

Setup = Callable[[Any, Any, str], None]


def ready(patient: Any, staff: Any, route: str) -> None:
    """Nothing to change: the course's signed screening and consent stand."""


def consent_withdrawn(patient: Any, staff: Any, route: str) -> None:
    ConsentSignature.objects.filter(patient=patient).update(
        withdrawn_at=timezone.now(), withdrawn_reason="changed their mind"
    )


def consent_outdated(patient: Any, staff: Any, route: str) -> None:
    consent_version(patient.clinic, staff["admin"], route=route)


def newer(**fields: Any) -> Setup:
    def setup(patient: Any, staff: Any, route: str) -> None:
        screening_for(patient, staff["prescriber"], route=route, **fields)

    return setup


def out_of_date(patient: Any, staff: Any, route: str) -> None:
    # the screening used the medicines "lorazepam"; the chart records none now
    screening_for(
        patient,
        staff["prescriber"],
        route=route,
        facts={"medicines": ["lorazepam"]},
        facts_used=["medicines"],
    )


def superseded(patient: Any, staff: Any, route: str) -> None:
    Screening.objects.filter(patient=patient).update(superseded_at=timezone.now())


def both(*setups: Setup) -> Setup:
    def setup(patient: Any, staff: Any, route: str) -> None:
        for step in setups:
            step(patient, staff, route)

    return setup


@dataclass(frozen=True)
class Case:
    protocol_id: str
    setup: Setup
    expected: str


CASES = [
    Case("iv_induction_6x", ready, "ready"),
    Case("esketamine_trd", ready, "ready"),
    Case("im_titration", ready, "ready"),
    Case("iv_booster", ready, "ready"),
    Case("iv_induction_6x", consent_withdrawn, "consent_missing"),
    Case("im_titration", consent_withdrawn, "consent_missing"),
    Case("iv_induction_6x", consent_outdated, "consent_outdated"),
    Case("esketamine_trd", consent_outdated, "consent_outdated"),
    Case("iv_induction_6x", newer(signed=False), "screening_unsigned"),
    Case("esketamine_trd", newer(signed=False, protocol_id="esketamine_trd"), "screening_unsigned"),
    Case("iv_induction_6x", newer(status="needs review"), "screening_needs_reason"),
    Case(
        "iv_induction_6x", newer(status="needs review", reason="reviewed: BP controlled"), "ready"
    ),
    Case(
        "iv_induction_6x",
        newer(status="ineligible", reason="benefit"),
        "screening_needs_cosignature",
    ),
    Case("iv_induction_6x", newer(status="ineligible"), "screening_needs_reason"),
    Case("iv_induction_6x", out_of_date, "screening_out_of_date"),
    Case("esketamine_trd", out_of_date, "screening_out_of_date"),
    Case("esketamine_trd", newer(protocol_id="esketamine_suicidal"), "screening_wrong_protocol"),
    Case("esketamine_trd", newer(protocol_id="iv_booster"), "screening_wrong_protocol"),
    Case("iv_induction_6x", superseded, "screening_missing"),
    Case("im_titration", superseded, "screening_missing"),
    Case("iv_induction_6x", both(out_of_date, consent_withdrawn), "screening_out_of_date"),
    Case("esketamine_trd", both(newer(signed=False), consent_outdated), "screening_unsigned"),
]


def course_start_answer(patient: Any, protocol_id: str) -> str:
    try:
        course_readiness(patient=patient, protocol=get_protocol(protocol_id))
    except KetaCareError as refusal:
        return str(refusal.code)
    return "ready"


def check_in_answer(team: Any, appointment_id: int) -> str:
    try:
        with transaction.atomic():
            services.session_check_in(
                actor=team.nurse, idempotency_key=key(), appointment_id=appointment_id
            )
            raise _RolledBack
    except _RolledBack:
        return "ready"
    except KetaCareError as refusal:
        return str(refusal.code)


class _RolledBack(Exception):
    """Undo a check-in that went through: the table asks, it does not treat."""


def shown_answer(html: str, protocol_id: str) -> str:
    match = re.search(rf'data-testid="readiness-{protocol_id}" data-answer="([a-z_]+)"', html)
    assert match, f"no readiness row for {protocol_id}"
    return match.group(1)


def test_the_table_has_at_least_twenty_patients() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[f"{c.protocol_id}-{c.expected}" for c in CASES])
def test_every_place_gives_the_same_readiness_answer(world: Any, team: Any, case: Case) -> None:
    # given a patient with an active course, today's appointment, and the case's changes
    patient = PatientFactory(clinic=world.clinic_a)
    route = PROTOCOL_ROUTE[case.protocol_id]
    course = course_of(patient, world.staff, case.protocol_id)
    appointment = todays_appointment(course)
    rems_ready(patient.clinic, patient)  # the setting's REMS certification, the enrolment
    case.setup(patient, world.staff, route)
    # when each place is asked
    answers = {"course start": course_start_answer(patient, case.protocol_id)}
    answers["check-in"] = check_in_answer(team, appointment.pk)
    prescriber = world.web(world.staff["prescriber"])
    panel = prescriber.get(reverse("course_new", kwargs={"patient_id": patient.pk}))
    answers["readiness panel"] = shown_answer(panel.content.decode(), case.protocol_id)
    card = prescriber.get(
        f"/schedule/patients/{patient.pk}/courses/", headers={"HX-Request": "true"}
    )
    answers["patient page"] = shown_answer(card.content.decode(), case.protocol_id)
    # then every place gives the expected answer
    assert answers == dict.fromkeys(answers, case.expected)
    # and the chart's screening badge agrees whenever the screening is what holds treatment
    page = prescriber.get(reverse("patient_detail", kwargs={"patient_id": patient.pk})).content
    if case.expected == "ready":
        assert b"Allows treatment" in page
    elif case.expected.startswith("screening_") and case.expected != "screening_wrong_protocol":
        assert b"Allows treatment" not in page


def test_check_in_no_longer_accepts_an_out_of_date_screening(world: Any, team: Any) -> None:
    # At the chair: check-in accepted a screening whose facts had changed; course start refused it
    patient = PatientFactory(clinic=world.clinic_a)
    appointment = todays_appointment(course_of(patient, world.staff))
    out_of_date(patient, world.staff, "iv")
    with pytest.raises(KetaCareError) as refused:
        services.session_check_in(
            actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
        )
    assert refused.value.code == "screening_out_of_date"
    assert "medicines" in str(refused.value)
    consent_for(patient, world.staff["nurse"])  # unrelated consent changes do not help
