"""Two simultaneous bookings cannot both win (PostgreSQL: row locks; SQLite serialises writes)."""

import threading
import time as clock
from datetime import timedelta

import pytest

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Refused
from ketacare.scheduling import services
from ketacare.scheduling.models import Appointment, AppointmentKind
from ketacare.scheduling.services import appointments
from tests.factories import PatientFactory
from tests.scheduling.factories import ChairFactory, course_row, local, next_monday

# On PostgreSQL the row locks serialise the two bookings; on SQLite the write lock taken at
# BEGIN IMMEDIATE does. Either way exactly one may win.
pytestmark = pytest.mark.django_db(transaction=True)


def race(monkeypatch, *bookings):
    """Run the bookings at once; each checks, then dawdles before writing, to widen the race."""
    checked = appointments.slot_problems

    def slow_check(**kwargs):
        problems = checked(**kwargs)
        clock.sleep(0.3)
        return problems

    monkeypatch.setattr(appointments, "slot_problems", slow_check)
    barrier = threading.Barrier(len(bookings))
    outcomes: list[object] = []

    def run(book):
        from django.db import connections

        try:
            barrier.wait()
            outcomes.append(book())
        except Refused as refusal:
            outcomes.append(refusal)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(book,)) for book in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_simultaneous_bookings_of_one_chair_cannot_both_win(world, monkeypatch):
    # given one chair and two patients
    desk = Actor(user=world.staff["front_desk"], clinic=world.clinic_a, role=Role.FRONT_DESK)
    chair = ChairFactory(clinic=world.clinic_a)
    patients = [PatientFactory(clinic=world.clinic_a) for _ in range(2)]
    starts_at = local(world.clinic_a, next_monday(world.clinic_a), 9)

    def booking(patient):
        return lambda: services.appointment_book(
            actor=desk,
            patient=patient,
            chair=chair,
            kind=AppointmentKind.CONSULT,
            starts_at=starts_at,
        )

    # when both are booked at the same moment
    outcomes = race(monkeypatch, *(booking(p) for p in patients))
    # then one wins and the other is refused because the chair is taken
    refusals = [o for o in outcomes if isinstance(o, Refused)]
    assert len(outcomes) == 2 and len(refusals) == 1
    assert refusals[0].code == "chair_taken"
    assert Appointment.objects.filter(chair=chair).count() == 1


def test_two_simultaneous_sessions_of_one_course_cannot_both_pass_the_interval(world, monkeypatch):
    # given a course and two chairs; Monday and Tuesday are each fine alone, not together
    desk = Actor(user=world.staff["front_desk"], clinic=world.clinic_a, role=Role.FRONT_DESK)
    course = course_row(world.patient_a, world.staff)
    chairs = [ChairFactory(clinic=world.clinic_a) for _ in range(2)]
    monday = next_monday(world.clinic_a)

    def booking(chair, day):
        return lambda: services.appointment_book(
            actor=desk,
            patient=world.patient_a,
            course=course,
            chair=chair,
            starts_at=local(world.clinic_a, monday + timedelta(days=day), 9),
        )

    outcomes = race(monkeypatch, booking(chairs[0], 0), booking(chairs[1], 1))
    refusals = [o for o in outcomes if isinstance(o, Refused)]
    assert len(refusals) == 1 and refusals[0].code == "too_soon"
    assert Appointment.objects.filter(course=course).count() == 1
