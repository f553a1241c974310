"""Discharge instructions by route come from cited data; esketamine: no driving until next day."""

import pytest

from ketacare.clinical.aftercare import discharge_instructions, load_aftercare
from ketacare.clinical.errors import InvalidInput


def test_esketamine_patients_are_told_not_to_drive_until_the_next_day_after_sleep():
    aftercare = discharge_instructions("esketamine")
    first = aftercare.instructions[0]
    assert "until the next day" in first.text and "sleep" in first.text
    assert first.citation.source_ids == ("spravato_pi",)


@pytest.mark.parametrize("route", ["iv", "im", "sublingual"])
def test_racemic_routes_say_no_driving_for_24_hours_from_the_ketalar_label(route):
    texts = [i.text for i in discharge_instructions(route).instructions]
    assert any("24 hours" in t for t in texts)


def test_every_route_has_a_title_and_cited_instructions():
    routes = load_aftercare()
    assert set(routes) == {"esketamine", "iv", "im", "sublingual"}
    for aftercare in routes.values():
        assert aftercare.title and aftercare.instructions
        assert all(i.citation.render() for i in aftercare.instructions)


def test_policy_defaults_are_labelled():
    policy = [i for i in discharge_instructions("iv").instructions if i.citation.policy]
    assert policy and "policy default" in policy[0].citation.render()


def test_an_unknown_route_is_refused_not_left_blank():
    with pytest.raises(InvalidInput) as refused:
        discharge_instructions("intranasal_racemic")
    assert refused.value.field == "route"
