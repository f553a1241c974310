"""Demo sessions: the stage plan's past sessions, given and discharged, and one live infusion.

Every session goes through the real services (and so the clinical core) with the session
clock held at the time each step happened, so the doses, alarms and observation times are
what the core says. Past appointments were already completed by the scheduling demo; their
sessions are recorded as checked in at the appointment (the one step made directly). A
patient whose course or appointment is missing (another app's demo did not make it) is
skipped. Running it twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import ClinicalError
from ketacare.clinical.protocols import Delivery, get_protocol
from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.ledger import demo as ledger_demo
from ketacare.patients.models import Patient
from ketacare.patients.selectors import latest_height_cm, latest_weight_kg
from ketacare.scheduling.models import Appointment, AppointmentStatus, Course
from ketacare.scheduling.selectors import SESSION_KINDS, clinic_zone, local_date
from ketacare.treatment import services
from ketacare.treatment.models import SessionStatus, TreatmentSession

logger = logging.getLogger(__name__)

# Position 11 has past sessions too: its live session today is not its first.
PAST_SESSION_POSITIONS = (7, 8, 9, 10, 11, 12, 13, 15)
LIVE_SESSION_POSITION = 11
# Demo products; the lot numbers are invented.
IV_PRODUCT = "Ketamine HCl 50 mg/mL (10 mL vial), diluted to 1 mg/mL in 0.9% saline"
ESKETAMINE_PRODUCT = "SPRAVATO (esketamine) 28 mg nasal spray device"


@dataclass
class _Demo:
    clinic: Clinic
    nurse_actor: Actor
    prescriber_actor: Actor
    rng: random.Random
    keys: int = 0

    # Signing asks for a re-authentication minutes old at most; the demo's trusted author is
    # stamped afresh at each step, since loading takes longer than that on a slow machine.
    @property
    def nurse(self) -> Actor:
        return dataclasses.replace(self.nurse_actor, reauthenticated_at=clock.wall_now())

    @property
    def prescriber(self) -> Actor:
        return dataclasses.replace(self.prescriber_actor, reauthenticated_at=clock.wall_now())

    def key(self) -> str:
        self.keys += 1
        return f"demo-{self.clinic.slug}-{self.rng.getrandbits(48):012x}-{self.keys}"


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Past sessions of the stage plan's courses and today's live infusion (idempotent)."""
    demo = _Demo(
        clinic=clinic,
        nurse_actor=_actor(clinic, staff[Role.NURSE], Role.NURSE),
        prescriber_actor=_actor(clinic, staff[Role.PRESCRIBER], Role.PRESCRIBER),
        rng=rng,
    )
    patients = list(Patient.objects.filter(clinic=clinic).order_by("mrn"))
    try:
        for position in PAST_SESSION_POSITIONS:
            if position <= len(patients):
                _past_sessions(demo, patients[position - 1])
        if len(patients) >= LIVE_SESSION_POSITION:
            _live_session(demo, patients[LIVE_SESSION_POSITION - 1])
    finally:
        clock.reset()


def _actor(clinic: Clinic, user: User, role: Role) -> Actor:
    # The demo loader signs as the demo staff: it is the trusted author of fictional records.
    return Actor(
        user=user,
        clinic=clinic,
        role=role,
        client_address="127.0.0.1",
        channel="demo",
        reauthenticated_at=clock.wall_now(),
    )


def _size(demo: _Demo, patient: Patient) -> tuple[Decimal, Decimal]:
    height = latest_height_cm(patient=patient) or Decimal(demo.rng.randint(155, 190))
    weight = latest_weight_kg(patient=patient) or Decimal(demo.rng.randint(55, 95))
    return height, weight


def _phq9(demo: _Demo, total: int) -> list[int]:
    """Answers that add up to `total`, item 9 (self-harm) at 0."""
    answers = [0] * 9
    for _ in range(min(total, 24)):
        open_items = [i for i in range(8) if answers[i] < 3]
        answers[demo.rng.choice(open_items)] += 1
    return answers


def _session_appointments(patient: Patient) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, kind__in=SESSION_KINDS
        )
        .exclude(course__isnull=True)
        .select_related("course")
        .order_by("starts_at")
    )


def _past_sessions(demo: _Demo, patient: Patient) -> None:
    """A given and discharged session for each completed appointment without one."""
    zone = clinic_zone(demo.clinic)
    today = local_date(clock.now(), zone)
    appointments = [
        a
        for a in _session_appointments(patient)
        if a.status == AppointmentStatus.COMPLETED and local_date(a.starts_at, zone) < today
    ]
    done = set(
        TreatmentSession.objects.filter(appointment__in=appointments).values_list(
            "appointment_id", flat=True
        )
    )
    height, weight = _size(demo, patient)
    for number, appointment in enumerate(appointments, start=1):
        if appointment.pk in done:
            continue
        # PHQ-9 falls over the course, as in a response (the outcomes demo adds what follows).
        phq9 = max(4, 19 - 2 * number + demo.rng.randint(0, 1))
        try:
            with transaction.atomic():
                _given_session(demo, appointment, number, height, weight, phq9)
        except (KetaCareError, ClinicalError) as refusal:
            logger.info("demo: no session for appointment %s: %s", appointment.pk, refusal)


def _attended(demo: _Demo, appointment: Appointment, at: datetime) -> TreatmentSession:
    """The check-in of an appointment the scheduling demo already marked completed."""
    course: Course = appointment.course  # type: ignore[assignment]
    protocol = get_protocol(course.protocol_id)
    session = TreatmentSession.objects.create(
        clinic=demo.clinic,
        patient=appointment.patient,
        course=course,
        appointment=appointment,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        route=protocol.route,
        created_by=demo.nurse.user,
        created_at=at,
        checked_in_by=demo.nurse.user,
        checked_in_at=at,
    )
    audit_record(
        actor=demo.nurse,
        action=AuditAction.CREATE,
        object_type="treatment_session",
        object_id=session.pk,
        patient_id=session.patient_id,
        detail={"appointment_id": appointment.pk, "demo": True},
    )
    return session


def _at(moment: datetime, step: Any) -> Any:
    with clock.frozen_at(moment):
        return step()


def _given_session(
    demo: _Demo,
    appointment: Appointment,
    number: int,
    height: Decimal,
    weight: Decimal,
    phq9_total: int,
) -> None:
    start = appointment.starts_at
    session = _attended(demo, appointment, start)
    steps = _Steps(demo, session)
    steps.pre_check(start + timedelta(minutes=5), height, weight, phq9_total, 118, 76)
    steps.order_and_verify(start + timedelta(minutes=10), number)
    dosing = start + timedelta(minutes=15)
    steps.start(dosing)
    if get_protocol(session.protocol_id).delivery.devices:
        rest = steps.order_devices_rest()
        ended = dosing
        for _ in range(steps.devices_left()):
            ended += timedelta(minutes=rest)
            steps.device(ended)
        steps.reading(dosing + timedelta(minutes=40), 142, 88, 76, 97, 4, "mild")
        steps.reading(ended + timedelta(minutes=90), 126, 80, 70, 98, 5, "none")
        steps.reading(ended + timedelta(minutes=121), 122, 78, 68, 98, 5, "none")
        steps.discharge(ended + timedelta(minutes=125), ready_at=ended + timedelta(minutes=95))
        return
    for minutes, (systolic, diastolic, rate) in zip(
        (10, 20, 30, 40), ((132, 84, 78), (138, 88, 80), (134, 86, 76), (128, 82, 74)), strict=True
    ):
        steps.reading(dosing + timedelta(minutes=minutes), systolic, diastolic, rate, 97, 4, "mild")
    ended = dosing + timedelta(minutes=40)
    steps.complete(ended)
    steps.reading(ended + timedelta(minutes=15), 124, 80, 72, 98, 5, "none")
    steps.reading(ended + timedelta(minutes=30), 120, 78, 70, 98, 5, "none")
    steps.discharge(ended + timedelta(minutes=32))


class _Steps:
    """The service calls of one demo session, each at its own time."""

    def __init__(self, demo: _Demo, session: TreatmentSession) -> None:
        self.demo = demo
        self.session = session

    def _delivery(self) -> Delivery:
        return get_protocol(self.session.protocol_id).delivery

    def _version(self) -> int:
        self.session.refresh_from_db()
        return self.session.version

    def pre_check(
        self,
        at: datetime,
        height: Decimal,
        weight: Decimal,
        phq9_total: int,
        systolic: int,
        diastolic: int,
    ) -> None:
        demo = self.demo
        _at(
            at,
            lambda: services.predose_check_record(
                actor=demo.nurse,
                session_id=self.session.pk,
                version=self._version(),
                idempotency_key=demo.key(),
                weight_kg=weight,
                height_cm=height,
                systolic=systolic + demo.rng.randint(-6, 6),
                diastolic=diastolic + demo.rng.randint(-4, 4),
                heart_rate=demo.rng.randint(62, 84),
                respiratory_rate=demo.rng.randint(12, 18),
                spo2=demo.rng.randint(96, 99),
                fasting_confirmed=True,
                escort_confirmed=True,
                escort_name="Family member",
                pregnancy_test="negative",
                medication_changes=False,
                phq9_answers=_phq9(demo, phq9_total),
                cssrs_answers=[False] * 6,
            ),
        )

    def order_and_verify(self, at: datetime, number: int) -> None:
        demo = self.demo
        if self._delivery().devices:
            inputs: dict[str, Any] = {"dose_mg": 56 if number <= 2 else 84}
        else:
            inputs = {
                "mg_per_kg": Decimal("0.5"),
                "concentration_mg_per_ml": Decimal("1"),
                "container_volume_ml": Decimal("100"),
            }
        _at(
            at,
            lambda: services.dose_order_create(
                actor=demo.prescriber,
                session_id=self.session.pk,
                version=self._version(),
                idempotency_key=demo.key(),
                inputs=inputs,
            ),
        )
        _at(
            at + timedelta(minutes=3),
            lambda: services.dose_order_verify(
                actor=demo.nurse,
                session_id=self.session.pk,
                version=self._version(),
                idempotency_key=demo.key(),
            ),
        )

    def start(self, at: datetime) -> None:
        demo = self.demo
        self.session.refresh_from_db()
        order = self.session.dose_orders.get(status="verified")
        esketamine = self._delivery().devices
        lot = _at(at, lambda: ledger_demo.draw_for_dose(demo.nurse, self.session.pk, order, at))
        _at(
            at,
            lambda: services.administration_start(
                actor=demo.nurse,
                session_id=self.session.pk,
                version=self._version(),
                idempotency_key=demo.key(),
                product=ESKETAMINE_PRODUCT if esketamine else IV_PRODUCT,
                lot=lot,
                concentration_mg_per_ml=order.concentration_mg_per_ml,
                volume_ml=order.volume_ml,
                rate_ml_per_h=order.rate_ml_per_h,
            ),
        )

    def order_devices_rest(self) -> int:
        order = self.session.dose_orders.get(status="verified")
        return order.rest_between_devices_min or 0

    def devices_left(self) -> int:
        administration = self.session.administration
        return (administration.dose_order.devices or 0) - administration.devices.count()

    def device(self, at: datetime) -> None:
        demo = self.demo
        _at(
            at,
            lambda: services.esketamine_device_record(
                actor=demo.nurse,
                session_id=self.session.pk,
                version=self._version(),
                idempotency_key=demo.key(),
            ),
        )

    def reading(
        self,
        at: datetime,
        systolic: int,
        diastolic: int,
        heart_rate: int,
        spo2: int,
        moaas: int,
        dissociation: str,
    ) -> None:
        demo = self.demo
        _at(
            at,
            lambda: services.monitoring_entry_record(
                actor=demo.nurse,
                session_id=self.session.pk,
                idempotency_key=demo.key(),
                systolic=systolic + demo.rng.randint(-3, 3),
                diastolic=diastolic + demo.rng.randint(-3, 3),
                heart_rate=heart_rate,
                respiratory_rate=demo.rng.randint(12, 18),
                spo2=spo2,
                moaas=moaas,
                dissociation=dissociation,
            ),
        )

    def complete(self, at: datetime) -> None:
        demo = self.demo
        _at(
            at,
            lambda: services.administration_complete(
                actor=demo.nurse, session_id=self.session.pk, idempotency_key=demo.key()
            ),
        )

    def discharge(self, at: datetime, ready_at: datetime | None = None) -> None:
        demo = self.demo
        criteria = dict.fromkeys(
            get_protocol(self.session.protocol_id).monitoring.discharge_criteria, True
        )
        _at(
            at,
            lambda: services.discharge_record(
                actor=demo.nurse,
                session_id=self.session.pk,
                version=self._version(),
                idempotency_key=demo.key(),
                criteria=criteria,
                escort_name="Family member",
                ready_at=ready_at,
            ),
        )


def _live_session(demo: _Demo, patient: Patient) -> None:
    """Today's session of the live patient: checked in, dose verified, infusion running."""
    zone = clinic_zone(demo.clinic)
    now = clock.now()
    today = local_date(now, zone)
    appointment = next(
        (
            a
            for a in _session_appointments(patient)
            if local_date(a.starts_at, zone) == today
            and a.status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
        ),
        None,
    )
    if appointment is None:
        logger.info("demo: no appointment today for %s; no live session", patient.mrn)
        return
    if TreatmentSession.objects.filter(appointment=appointment).exists():
        return
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    checked_in = max(now - timedelta(minutes=45), midnight)
    dosing = max(now - timedelta(minutes=25), checked_in + timedelta(minutes=15))
    height, weight = _size(demo, patient)
    done = TreatmentSession.objects.filter(patient=patient, status=SessionStatus.DISCHARGED)
    try:
        with transaction.atomic():
            session = _at(
                checked_in,
                lambda: services.session_check_in(
                    actor=demo.nurse, idempotency_key=demo.key(), appointment_id=appointment.pk
                ),
            )
            steps = _Steps(demo, session)
            steps.pre_check(
                checked_in + timedelta(minutes=4), height, weight, 15 - done.count(), 124, 80
            )
            steps.order_and_verify(checked_in + timedelta(minutes=8), done.count() + 1)
            steps.start(dosing)
            for minutes, values in (
                (1, (128, 82, 76, 98, 5, "none")),
                (10, (136, 86, 80, 97, 4, "mild")),
                (20, (142, 90, 82, 97, 4, "moderate")),
            ):
                if dosing + timedelta(minutes=minutes) <= now:
                    steps.reading(dosing + timedelta(minutes=minutes), *values)
    except (KetaCareError, ClinicalError) as refusal:
        logger.info("demo: no live session for %s: %s", patient.mrn, refusal)
