"""Sessions for tests: rows made directly for reads, and walks through the real services.

The walks use the services (and so the core) with good defaults, so a test names only what it
is about: `walk_to(session, "observation", team)` gives a session whose dose ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.kernel import clock
from ketacare.ledger.models import Draw
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Appointment, Course
from ketacare.treatment import services
from ketacare.treatment.models import SessionStatus, TreatmentSession
from tests.factories import member
from tests.ledger.support import draw_for, rems_ready
from tests.scheduling.factories import appointment_row, course_row

_keys = iter(range(10**9))

PROTOCOL_ROUTE = {
    "iv_induction_6x": "iv",
    "iv_booster": "iv",
    "esketamine_trd": "esketamine",
    "esketamine_suicidal": "esketamine",
    "im_titration": "im",
    "sublingual_home": "sublingual",
}
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 1, 1, 0]
CSSRS_NONE = [False] * 6
IV_ORDER = {
    "mg_per_kg": Decimal("0.5"),
    "concentration_mg_per_ml": Decimal("1"),
    "container_volume_ml": Decimal("100"),
}


def key() -> str:
    """A fresh idempotency key."""
    return f"test-key-{next(_keys):08d}"


def actor(user: Any, clinic: Any, role: Role | str | None = None) -> Actor:
    """The actor a user is in a clinic (the role read from the membership when not given).

    Stamped as re-authenticated, as a signing request that carried the password would be;
    tests/accounts/test_reauth.py covers the refusals without it.
    """
    if role is None:
        role = user.memberships.get(clinic=clinic).role
    return Actor(
        user=user,
        clinic=clinic,
        role=Role(role),
        client_address="127.0.0.1",
        reauthenticated_at=timezone.now(),
    )


@dataclass
class Team:
    """Who does what in a session: a prescriber orders, a nurse runs it, a second prescriber."""

    clinic: Any
    prescriber: Actor
    nurse: Actor
    second_prescriber: Actor

    @classmethod
    def of(cls, clinic: Any, staff: dict[str, Any]) -> Team:
        other = member(clinic, Role.PRESCRIBER, f"{clinic.slug}.prescriber2")
        return cls(
            clinic=clinic,
            prescriber=actor(staff["prescriber"], clinic, Role.PRESCRIBER),
            nurse=actor(staff["nurse"], clinic, Role.NURSE),
            second_prescriber=actor(other, clinic, Role.PRESCRIBER),
        )


def course_of(
    patient: Patient, staff: dict[str, Any], protocol_id: str = "iv_induction_6x"
) -> Course:
    """An active course of the protocol, with its signed screening and consent."""
    return course_row(patient, staff, protocol_id=protocol_id, route=PROTOCOL_ROUTE[protocol_id])


def todays_appointment(course: Course) -> Appointment:
    """A booked appointment of the course starting now."""
    return appointment_row(course, None, clock.now())


def session_row(clinic: Any, patient: Patient, staff: dict[str, Any]) -> TreatmentSession:
    """A checked-in session made directly as a row (for the route walker and reads)."""
    course = course_of(patient, staff)
    now = timezone.now()
    return TreatmentSession.objects.create(
        clinic=clinic,
        patient=patient,
        course=course,
        protocol_id=course.protocol_id,
        protocol_version="2025.1",
        route=course.route,
        created_by=staff["nurse"],
        created_at=now,
        checked_in_by=staff["nurse"],
        checked_in_at=now,
    )


def check_in(
    team: Team, patient: Patient, staff: dict[str, Any], protocol_id: str = "iv_induction_6x"
) -> TreatmentSession:
    """A session checked in by the nurse for today's appointment of a new course."""
    appointment = todays_appointment(course_of(patient, staff, protocol_id))
    if PROTOCOL_ROUTE[protocol_id] == "esketamine":
        rems_ready(patient.clinic, patient)
    return services.session_check_in(
        actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
    )


def fresh(session: TreatmentSession) -> TreatmentSession:
    """The session as stored now."""
    session.refresh_from_db()
    return session


def pre_check(team: Team, session: TreatmentSession, **overrides: Any) -> Any:
    """The nurse records normal pre-dose checks (override any value)."""
    values: dict[str, Any] = {
        "weight_kg": Decimal("70.0"),
        "height_cm": Decimal("170.0"),
        "systolic": 122,
        "diastolic": 78,
        "heart_rate": 72,
        "spo2": 98,
        "fasting_confirmed": True,
        "escort_confirmed": True,
        "escort_name": "Sam Escort",
        "pregnancy_test": "not_required",
        "medication_changes": False,
        "phq9_answers": PHQ9_MILD,
        "cssrs_answers": CSSRS_NONE,
    }
    values.update(overrides)
    by = values.pop("by", team.nurse)
    return services.predose_check_record(
        actor=by,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
        **values,
    )


def order(team: Team, session: TreatmentSession, **inputs: Any) -> Any:
    """The prescriber orders the dose (IV defaults; esketamine 56 mg)."""
    by = inputs.pop("by", team.prescriber)
    reason = inputs.pop("override_reason", None)
    if not inputs:
        inputs = dict(IV_ORDER) if session.route == "iv" else {"dose_mg": 56}
    return services.dose_order_create(
        actor=by,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
        inputs=inputs,
        override_reason=reason,
    )


def verify(team: Team, session: TreatmentSession, by: Actor | None = None) -> Any:
    """A second clinician (the nurse, by default) verifies the order."""
    return services.dose_order_verify(
        actor=by or team.nurse,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
    )


def start(team: Team, session: TreatmentSession, **overrides: Any) -> Any:
    """The nurse starts the dose as verified."""
    current = fresh(session)
    live = current.dose_orders.get(status="verified")
    values: dict[str, Any] = {
        "product": "Ketamine HCl 50 mg/mL, diluted in 0.9% saline"
        if current.route == "iv"
        else "SPRAVATO 28 mg device",
        "lot": "LOT-1234",
        "concentration_mg_per_ml": live.concentration_mg_per_ml,
        "volume_ml": live.volume_ml,
        "rate_ml_per_h": live.rate_ml_per_h,
    }
    values.update(overrides)
    by = values.pop("by", team.nurse)
    if values.pop("draw", True) and not Draw.objects.filter(session_id=current.pk).exists():
        draw_for(current, team.nurse, lot=values["lot"])
    return services.administration_start(
        actor=by,
        session_id=session.pk,
        version=current.version,
        idempotency_key=key(),
        **values,
    )


def complete(team: Team, session: TreatmentSession) -> Any:
    """The infusion runs to its end."""
    return services.administration_complete(
        actor=team.nurse, session_id=session.pk, idempotency_key=key()
    )


def reading(team: Team, session: TreatmentSession, **values: Any) -> Any:
    """The nurse adds a reading."""
    return services.monitoring_entry_record(
        actor=values.pop("by", team.nurse),
        session_id=session.pk,
        idempotency_key=key(),
        **values,
    )


def all_criteria(session: TreatmentSession) -> dict[str, bool]:
    """Every discharge criterion of the session's protocol, met."""
    from ketacare.treatment.plans import protocol_of

    return dict.fromkeys(protocol_of(session).monitoring.discharge_criteria, True)


def discharge(team: Team, session: TreatmentSession, **overrides: Any) -> Any:
    """Discharge with every criterion met (override any argument)."""
    values: dict[str, Any] = {"criteria": all_criteria(session), "escort_name": "Sam Escort"}
    if session.route == "esketamine":
        values["ready_at"] = clock.now()
    values.update(overrides)
    by = values.pop("by", team.nurse)
    return services.discharge_record(
        actor=by,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
        **values,
    )


STAGES = ("pre_checked", "ordered", "verified", "dosing", "observation")


def walk_to(team: Team, session: TreatmentSession, stage: str) -> TreatmentSession:
    """Take a checked-in session through the normal steps up to `stage`."""
    steps = {
        "pre_checked": lambda: pre_check(team, session),
        "ordered": lambda: order(team, session),
        "verified": lambda: verify(team, session),
        "dosing": lambda: start(team, session),
        "observation": lambda: _end_dosing(team, session),
    }
    for name in STAGES[: STAGES.index(stage) + 1]:
        steps[name]()
    return fresh(session)


def _end_dosing(team: Team, session: TreatmentSession) -> None:
    current = fresh(session)
    if current.status == SessionStatus.OBSERVATION:
        return
    if current.route == "iv":
        complete(team, current)
        return
    # Esketamine: the remaining devices, each after the label's rest.
    from datetime import timedelta

    administration = current.administration
    while fresh(session).status == SessionStatus.DOSING:
        clock.travel(timedelta(minutes=administration.dose_order.rest_between_devices_min or 0))
        services.esketamine_device_record(
            actor=team.nurse,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
        )
