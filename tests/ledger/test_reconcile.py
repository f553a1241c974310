"""`ketacare ledger reconcile` holds every dose given against the ledger, both ways."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ketacare.ledger.models import EntryKind, LedgerEntry
from ketacare.ledger.selectors import ledger_verify, reconcile_clinic
from tests.treatment.factories import Team, check_in, walk_to

pytestmark = pytest.mark.django_db


def test_reconcile_finds_a_session_whose_ledger_entry_was_removed_in_the_database(world, capsys):
    # given an IV session whose 35 mg were drawn, given and recorded in the ledger
    team = Team.of(world.clinic_a, world.staff)
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    entry = LedgerEntry.objects.get(session_id=session.pk, kind=EntryKind.ADMINISTRATION)
    assert entry.dose_mg == 35
    call_command("ledger", "reconcile")
    assert "Every dose given is in the ledger" in capsys.readouterr().out
    # when someone removes the administration entry straight from the database
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_ledgerentry WHERE id = %s", [entry.pk])
    # then reconcile names the session and fails, and verify finds the hole in the chain
    result = reconcile_clinic(clinic_id=world.clinic_a.pk)
    assert [d.session_id for d in result.doses_without_entry] == [session.pk]
    with pytest.raises(CommandError, match="does not reconcile"):
        call_command("ledger", "reconcile")
    assert f"session {session.pk}" in capsys.readouterr().err
    assert not ledger_verify().ok


def test_reconcile_finds_a_ledger_administration_without_a_session(world, stock, session):
    from decimal import Decimal

    from ketacare.ledger import services

    [vial] = stock.receive()
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity="5"
    )
    services.draw_administer(actor=stock.actor("nurse"), draw_id=draw.pk, dose_mg=Decimal("5"))
    # the session never gave a dose: the ledger's administration has no session dose to match
    with pytest.raises(CommandError):
        call_command("ledger", "reconcile", "--clinic", world.clinic_a.slug)
    with pytest.raises(CommandError, match="No clinic"):
        call_command("ledger", "reconcile", "--clinic", "nowhere")
