"""The portal: tappable crisis and clinic numbers; after a treatment, its aftercare by route."""

from datetime import timedelta

import pytest
from django.test import Client

from ketacare.kernel import clock
from tests.outcomes.factories import assignment_row, link_for
from tests.treatment.factories import Team, check_in, discharge, walk_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(world):
    return Team.of(world.clinic_a, world.staff)


def _portal_home(world):
    issued = link_for(world.patient_a, [assignment_row(world.patient_a)])
    return Client().get(f"/portal/{issued.token}/").content.decode()


def test_the_crisis_line_and_the_clinic_are_tappable_phone_links(world):
    world.clinic_a.phone = "(555) 010-0100"
    world.clinic_a.save()
    page = _portal_home(world)
    assert '<a class="tel" href="tel:988">988</a>' in page
    assert '<a class="tel" href="tel:5550100100">(555) 010-0100</a>' in page


def test_after_an_esketamine_session_the_portal_says_no_driving_until_the_next_day(world, team):
    session = walk_to(
        team, check_in(team, world.patient_a, world.staff, "esketamine_trd"), "observation"
    )
    clock.travel(timedelta(hours=2, minutes=5))
    try:
        discharge(team, session)
    finally:
        clock.reset()
    page = _portal_home(world)
    assert 'data-testid="aftercare"' in page
    assert "until the next day, after a restful night" in page


def test_without_a_recent_treatment_there_is_no_aftercare_section(world):
    assert 'data-testid="aftercare"' not in _portal_home(world)


def test_the_printed_summary_carries_the_routes_aftercare(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    page = world.web(world.staff["nurse"]).get(f"/sessions/{session.pk}/summary/")
    assert "for at least 24 hours" in page.content.decode()
