"""A clinic that dispenses the home supply itself records it in the controlled-substance ledger:
the fill takes the prescription's quantity of lozenges of its strength from a container in
stock, in the same transaction as the supply; the 1304.22(c) record lists it with the patient."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ketacare.athome import services
from ketacare.athome.models import SupplyMovement
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.ledger import reports
from ketacare.ledger import services as ledger
from ketacare.ledger.models import Container, EntryKind, LedgerEntry
from tests.athome.conftest import actor, enrol, key, prescribe
from tests.ledger.factories import stock_for

pytestmark = pytest.mark.django_db

TROCHE = {
    "ndc": "70000-0050-30", "name": "Ketamine HCl troche (compounded)", "substance": "ketamine",
    "form": "sublingual troche", "strength": "50 mg/troche", "unit": "lozenge",
    "mg_per_unit": Decimal("50"), "concentration_mg_per_ml": None, "container_kind": "bottle",
    "container_size": Decimal("30"),
}  # fmt: skip


@pytest.fixture
def bottle(world):
    stock = stock_for(world.clinic_a, world.staff)
    troche = ledger.product_create(actor=stock.actor("admin"), **TROCHE)
    (container,) = stock.receive(troche, prefix="T")
    return stock, container


def _programme(world):
    programme = enrol(world)
    prescribe(world, programme)  # 4 troches of 50 mg
    return programme


def test_a_fill_from_the_clinics_stock_writes_the_ledger_and_the_supply_at_once(world, bottle):
    stock, container = bottle
    programme = _programme(world)
    movement = services.supply_dispense(
        actor=actor(world, "nurse"), programme_id=programme.pk, idempotency_key=key(),
        from_container_id=container.pk,
    )  # fmt: skip
    entry = LedgerEntry.objects.get(pk=movement.ledger_entry_id)
    assert (entry.kind, entry.amount, entry.change) == (EntryKind.DISPENSING, 4, -4)
    assert entry.patient_id == world.patient_a.pk and entry.dose_mg == 200
    assert Container.objects.get(pk=container.pk).balance == 26
    # and the dispensing record lists it with the patient
    today = clock.today()
    report = reports.dispensing_record(
        actor=stock.actor("prescriber"), since=today - timedelta(days=1), until=today
    )
    (row,) = [r for r in report.rows if r[1] == "Dispensed for home use"]
    assert world.patient_a.display_name in row and "4 lozenge" in row


def test_a_fill_by_the_pharmacy_writes_no_ledger_entry(world, bottle):
    programme = _programme(world)
    movement = services.supply_dispense(
        actor=actor(world, "nurse"), programme_id=programme.pk, idempotency_key=key()
    )
    assert movement.ledger_entry_id is None
    assert not LedgerEntry.objects.filter(kind=EntryKind.DISPENSING).exists()


def _refused_fill(world, programme, container_id):
    with pytest.raises(Refused) as caught:
        services.supply_dispense(
            actor=actor(world, "nurse"), programme_id=programme.pk, idempotency_key=key(),
            from_container_id=container_id,
        )  # fmt: skip
    assert not SupplyMovement.objects.exists()
    assert not LedgerEntry.objects.filter(kind=EntryKind.DISPENSING).exists()
    return caught.value


def test_a_vial_cannot_fill_a_home_prescription(world, bottle):
    stock, _ = bottle
    (vial,) = stock.receive(prefix="V")
    error = _refused_fill(world, _programme(world), vial.pk)
    assert error.code == "not_a_home_product"


def test_lozenges_of_another_strength_are_refused(world, bottle):
    stock, _ = bottle
    other = ledger.product_create(
        actor=stock.actor("admin"),
        **{**TROCHE, "ndc": "70000-0100-30", "strength": "100 mg/troche", "mg_per_unit": 100},
    )
    (container,) = stock.receive(other, prefix="H")
    error = _refused_fill(world, _programme(world), container.pk)
    assert error.code == "strength_differs"


def test_a_bottle_with_too_few_lozenges_is_refused(world, bottle):
    stock, _ = bottle
    small = ledger.product_create(
        actor=stock.actor("admin"), **{**TROCHE, "ndc": "70000-0050-03", "container_size": 3}
    )
    (container,) = stock.receive(small, prefix="S")
    error = _refused_fill(world, _programme(world), container.pk)
    assert error.code == "over_draw"
    assert Container.objects.get(pk=container.pk).balance == 3


def test_another_clinics_container_is_not_found(world, bottle):
    outside = stock_for(world.clinic_b, world.outsiders)
    troche = ledger.product_create(actor=outside.actor("admin"), **TROCHE)
    (theirs,) = outside.receive(troche, prefix="X")
    error = _refused_fill(world, _programme(world), theirs.pk)
    assert error.code == "not_found"


def test_the_programme_page_offers_the_clinics_lozenges(world, bottle):
    _, container = bottle
    programme = _programme(world)
    client = world.web(world.staff["nurse"])
    page = client.get(f"/athome/programmes/{programme.pk}/").content.decode()
    assert f'<option value="{container.pk}">The clinic, from {container.label}' in page
    client.post(
        f"/athome/programmes/{programme.pk}/dispense/",
        {"idempotency_key": "fill-page-0001", "from_container": str(container.pk)},
    )
    assert SupplyMovement.objects.get().ledger_entry_id is not None
