"""The controlled-substance ledger moves with the clinic archive: every table of it round-trips,
and its chain verifies in the KetaCare that imported it."""

import pytest
from django.utils import timezone

from ketacare.audit.services import audit_verify
from ketacare.errors import KetaCareError
from ketacare.ledger import services
from ketacare.ledger.selectors import ledger_verify
from ketacare.ledger.services.counts import CountedLine
from ketacare.ledger.services.witnesses import witness_failure_record
from ketacare.portability.archive import clinic_export, clinic_import
from tests.ledger.factories import PASSWORD
from tests.portability.test_round_trip import _empty_ketacare

pytestmark = pytest.mark.django_db


def _count(stock, lines, password=PASSWORD):
    return services.count_record(
        actor=stock.actor("nurse"), registration_id=stock.registration.pk, kind="shift",
        timing="", second_username=stock.staff["prescriber"].username, second_password=password,
        lines=[CountedLine(c.pk, counted) for c, counted in lines],
    )  # fmt: skip


def test_every_ledger_table_round_trips_and_the_chain_verifies(world, stock, tmp_path, settings):
    # given a shift count with a variance (a discrepancy), a theft, and a wrong co-signature
    vials = stock.receive(count=3)
    _count(stock, [(vials[0], "500"), (vials[1], "480"), (vials[2], "500")])
    services.theft_loss_record(
        actor=stock.actor("prescriber"), container_id=vials[2].pk, quantity="500", kind="theft",
        discovered_on=timezone.localdate(), circumstances="Safe found open at 07:00.",
    )  # fmt: skip
    with pytest.raises(KetaCareError) as refused:
        _count(stock, [(vials[0], "500")], password="not-the-password")  # noqa: S106
    assert refused.value.code == "second_person_not_confirmed"
    assert witness_failure_record(refusal=refused.value) is not None
    settings.KETACARE_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    first = clinic_export(slug=world.clinic_a.slug, path=tmp_path / "a.zip")
    ledger = sorted(t for t in first.tables if t.startswith("ledger."))
    # (draws travel in the demo clinics' round trip: tests/portability)
    assert [t for t in ledger if not first.tables[t]["count"]] == ["ledger.draw"]
    # when a fresh KetaCare imports it
    _empty_ketacare()
    clinic_import(path=tmp_path / "a.zip")
    # then it exports again the same, and the ledger and audit chains verify
    again = clinic_export(slug=world.clinic_a.slug, path=tmp_path / "again.zip")
    assert again.tables == first.tables
    assert ledger_verify().ok
    report = audit_verify()
    assert report.ok, [p.describe() for p in report.problems]
