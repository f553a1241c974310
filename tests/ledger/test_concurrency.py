"""Two nurses drawing the last milligrams of one vial at once: only one succeeds."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from ketacare.errors import Refused
from ketacare.ledger import services
from ketacare.ledger.models import Draw, EntryKind, LedgerEntry
from ketacare.ledger.services import base
from tests.factories import member
from tests.ledger.factories import as_actor
from tests.treatment.factories import session_row

# PostgreSQL: the container row lock (select_for_update) serialises the draws; SQLite: the write
# lock taken at BEGIN IMMEDIATE does. Either way the second sees the first's balance.
pytestmark = pytest.mark.django_db(transaction=True)


def test_two_nurses_drawing_the_last_milligrams_of_one_vial_at_once_only_one_succeeds(
    world, stock, monkeypatch
):
    # given a vial with 30 mg left and two sessions, one nurse each
    [vial] = stock.receive()
    first = session_row(world.clinic_a, world.patient_a, world.staff)
    services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=first.pk, quantity="470"
    )
    second_nurse = as_actor(member(world.clinic_a, "nurse", "a.nurse.two"), world.clinic_a, "nurse")
    sessions = [session_row(world.clinic_a, world.patient_a, world.staff) for _ in range(2)]
    nurses = [stock.actor("nurse"), second_nurse]
    # each draw reads the balance, then dawdles before writing, to widen any race
    usable = base.usable

    def slow_usable(*args, **kwargs):
        usable(*args, **kwargs)
        threading.Event().wait(0.3)

    monkeypatch.setattr("ketacare.ledger.services.draws.usable", slow_usable)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def draw(nurse, session):
        try:
            barrier.wait()
            outcomes.append(
                services.draw_create(
                    actor=nurse, container_id=vial.pk, session_id=session.pk, quantity="30"
                )
            )
        except Refused as refusal:
            outcomes.append(refusal)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=draw, args=pair) for pair in zip(nurses, sessions, strict=True)
    ]
    # when both draw the last 30 mg at the same moment
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then one draw wins, the other is refused as an over-draw, and the vial is empty, not negative
    refusals = [o for o in outcomes if isinstance(o, Refused)]
    assert len(outcomes) == 2 and len(refusals) == 1, outcomes
    assert refusals[0].code == "over_draw"
    vial.refresh_from_db()
    assert vial.balance == Decimal("0")
    assert Draw.objects.filter(container=vial).count() == 2
    assert LedgerEntry.objects.filter(container=vial, kind=EntryKind.DRAW).count() == 2
