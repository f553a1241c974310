"""Signing a dose order, its verification and a discharge needs re-authentication."""

import dataclasses

import pytest

from ketacare.errors import Refused

pytestmark = pytest.mark.django_db


def _unstamped(actor):
    return dataclasses.replace(actor, reauthenticated_at=None)


@pytest.mark.parametrize("step", ["order", "verify", "discharge"])
def test_dose_orders_verifications_and_discharges_need_re_authentication(world, team, step):
    from tests.treatment.factories import check_in, discharge, order, verify, walk_to

    # given a session at the step before
    before = {"order": "pre_checked", "verify": "ordered", "discharge": "observation"}[step]
    session = walk_to(team, check_in(team, world.patient_a, world.staff), before)
    run = {
        "order": lambda: order(team, session, by=_unstamped(team.prescriber)),
        "verify": lambda: verify(team, session, by=_unstamped(team.nurse)),
        "discharge": lambda: discharge(
            team, session, by=_unstamped(team.prescriber), override_reason="Reviewed early."
        ),
    }[step]
    # when signed without re-authenticating, then refused
    with pytest.raises(Refused) as refused:
        run()
    assert refused.value.code == "reauth_required"
