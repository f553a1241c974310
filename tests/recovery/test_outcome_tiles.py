"""The outcomes dashboard's substance-use tiles: percent days abstinent, time to first use,
relapse at 3 and 6 months, for Part 2 roles only, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketacare.audit.models import AuditEntry
from ketacare.recovery import services
from ketacare.recovery.services.common import today_of
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _programme(actor, patient, days, used=()):
    today = today_of(actor)
    start = today - timedelta(days=days - 1)
    services.programme_start(
        actor=actor, patient_id=patient.pk, substance="alcohol", started_on=start
    )
    for n in range(days):
        amount = "3 drinks" if n in used else ""
        services.use_day_mark(
            actor=actor,
            patient_id=patient.pk,
            day=start + timedelta(days=n),
            used=bool(amount),
            amount=amount,
        )


def test_the_tiles_pool_the_clinics_programmes(world, actors):
    # given two programmes: 10 days with use on day 4, and 10 clean days
    nurse = actors["nurse"]
    _programme(nurse, world.patient_a, 10, used={4})
    other = PatientFactory(clinic=world.clinic_a)
    _programme(nurse, other, 10)
    # when the prescriber's dashboard loads the tiles
    page = world.web(world.staff["prescriber"]).get(reverse("recovery_outcome_tiles"))
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "95.0%" in html  # 19 of 20 recorded days abstinent
    assert "day 4" in html  # median time to first use among those who used
    assert "1 of 1" in html  # relapsed within 90 days: the one with use (the other: unknown)
    assert "42 CFR part 2" in html
    assert AuditEntry.objects.filter(object_type="sud_outcomes_summary").exists()


def test_the_dashboard_loads_the_tiles_for_part2_roles_only(world):
    prescriber = world.web(world.staff["prescriber"])
    board = prescriber.get(reverse("outcomes_dashboard")).content.decode()
    assert 'data-testid="sud-tiles-loader"' in board
    desk = world.web(world.staff["front_desk"])
    assert desk.get(reverse("recovery_outcome_tiles")).status_code in (403, 404)


def test_the_tiles_take_the_same_queries_with_one_programme_or_many(world, actors):
    nurse = actors["nurse"]
    client = world.web(world.staff["prescriber"])
    _programme(nurse, world.patient_a, 5, used={1})
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("recovery_outcome_tiles"))
    for _ in range(3):
        _programme(nurse, PatientFactory(clinic=world.clinic_a), 5)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("recovery_outcome_tiles"))
    assert len(many) == len(one)


def test_another_clinics_programmes_are_not_counted(world, actors):
    # given a programme in clinic A
    _programme(actors["nurse"], world.patient_a, 5, used={1})
    # when clinic B's prescriber loads the tiles
    page = world.web(world.outsiders["prescriber"]).get(reverse("recovery_outcome_tiles"))
    # then clinic B has none
    assert page.status_code == 200
    assert "0</strong><span>programmes" in page.content.decode()
