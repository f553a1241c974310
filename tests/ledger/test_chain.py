"""`ketacare ledger verify` finds an edited, removed or inserted entry."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ketacare.ledger.models import LedgerEntry
from ketacare.ledger.selectors import ledger_verify

pytestmark = pytest.mark.django_db


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_untouched_ledger_verifies(stock, capsys):
    stock.receive(count=3)
    call_command("ledger", "verify")
    assert "Ledger intact: 3 entries" in capsys.readouterr().out


def test_an_edited_amount_is_found(stock):
    # given three receipts, and someone with database access changing the second's amount
    stock.receive(count=3)
    second = LedgerEntry.objects.get(seq=2)
    _raw("UPDATE ledger_ledgerentry SET amount = %s WHERE id = %s", ["50", second.pk])
    # when the ledger is verified
    result = ledger_verify()
    # then the second entry is named as altered, and the command fails
    assert not result.ok
    assert result.problems[0].seq == 2 and "altered" in result.problems[0].reason
    with pytest.raises(CommandError, match="seq 2"):
        call_command("ledger", "verify")
    # and the shared chain check over every append-only record finds it too
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_a_removed_entry_is_found(stock):
    stock.receive(count=3)
    _raw("DELETE FROM ledger_ledgerentry WHERE seq = %s", [2])
    problem = ledger_verify().problems[0]
    assert problem.seq == 2 and "missing" in problem.reason


def test_a_removed_last_entry_is_found(stock):
    stock.receive(count=3)
    _raw("DELETE FROM ledger_ledgerentry WHERE seq = %s", [3])
    assert "removed" in ledger_verify().problems[0].reason


def test_an_inserted_entry_is_found(stock):
    # given a forged entry copied from the first, slipped in at the end with a made-up hash
    stock.receive(count=2)
    first = LedgerEntry.objects.get(seq=1)
    columns = [f.column for f in LedgerEntry._meta.concrete_fields if f.column != "id"]
    values = [
        getattr(first, f.attname) for f in LedgerEntry._meta.concrete_fields if f.column != "id"
    ]
    values[columns.index("seq")] = 3
    values[columns.index("detail")] = "{}"
    values[columns.index("prev_hash")] = LedgerEntry.objects.get(seq=2).entry_hash
    values[columns.index("entry_hash")] = "f" * 64
    placeholders = ", ".join(["%s"] * len(columns))
    _raw(f"INSERT INTO ledger_ledgerentry ({', '.join(columns)}) VALUES ({placeholders})", values)  # noqa: S608
    problem = ledger_verify().problems[0]
    assert problem.seq == 3
