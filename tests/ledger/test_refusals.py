"""Each remaining refusal of the ledger and of dosing from stock, triggered and its code asserted.

The movements' main refusals (over-draw, expired, witnesses, counts) are in test_services.py;
these are the setup, date and session refusals a clinic meets less often.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.ledger import services
from ketacare.ledger.models import Container, Draw, EntryKind, LedgerEntry
from tests.treatment.factories import Team, check_in, fresh, start, walk_to
from tests.treatment.factories import _end_dosing as end_dosing

pytestmark = pytest.mark.django_db


def refused(code, call):
    with pytest.raises(Refused) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


@pytest.fixture
def team(world):
    return Team.of(world.clinic_a, world.staff)


@pytest.fixture
def verified(world, team, stock):
    return walk_to(team, check_in(team, world.patient_a, world.staff), "verified")


def _receipt(stock, **overrides):
    values = {
        "actor": stock.actor("nurse"), "registration_id": stock.registration.pk,
        "storage_id": stock.safe.pk, "product_id": stock.vial.pk, "lot": "L1",
        "expires_on": timezone.localdate() + timedelta(days=365), "containers": 1,
        "label_prefix": "R", "supplier_name": "Acme Wholesale",
        "supplier_address": "1 Supply Way, Newark NJ", "supplier_dea": "RA1234563",
        "invoice": "INV-1", "received_on": timezone.localdate(),
    }  # fmt: skip
    values.update(overrides)
    return lambda: services.receipt_record(**values)


def test_dosing_is_refused_until_the_dose_is_drawn_from_stock(team, verified):
    error = refused("no_draw", lambda: start(team, verified, draw=False))
    assert error.code == "no_draw"
    assert error.field == "status"
    assert fresh(verified).status == "verified"


def test_dosing_is_refused_when_the_draws_hold_less_than_the_verified_dose(team, verified, stock):
    # given a verified IV dose and a draw of 10 mg, less than it
    order = verified.dose_orders.get(status="verified")
    assert order.dose_mg > Decimal("10")
    [vial] = stock.receive(prefix="SHORT")
    services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=verified.pk, quantity="10"
    )
    # then starting the dose is refused with the shortfall
    error = refused("draw_short", lambda: start(team, verified, draw=False))
    assert error.code == "draw_short"
    assert "10 mg" in error.message
    assert fresh(verified).status == "verified"


def test_a_draw_for_a_session_whose_dosing_has_ended_is_refused(team, verified, stock):
    start(team, verified)
    end_dosing(team, verified)
    observed = fresh(verified)
    assert observed.status == "observation"
    [vial] = stock.receive(prefix="LATE")
    error = refused(
        "session_dosed",
        lambda: services.draw_create(
            actor=stock.actor("nurse"),
            container_id=vial.pk,
            session_id=observed.pk,
            quantity="10",
        ),  # fmt: skip
    )
    assert error.code == "session_dosed"
    assert not Draw.objects.filter(container=vial).exists()


def test_a_draw_dated_in_the_future_is_refused(verified, stock):
    [vial] = stock.receive(prefix="FUT")
    error = refused(
        "in_the_future",
        lambda: services.draw_create(
            actor=stock.actor("nurse"),
            container_id=vial.pk,
            session_id=verified.pk,
            quantity="10",
            occurred_at=clock.now() + timedelta(hours=1),
        ),  # fmt: skip
    )
    assert error.code == "in_the_future"
    assert error.field == "occurred_at"
    vial.refresh_from_db()
    assert vial.balance == Decimal("500")


def test_a_receipt_dated_tomorrow_or_over_a_week_ago_is_refused(stock):
    today = timezone.localdate()
    for day in (today + timedelta(days=1), today - timedelta(days=8)):
        error = refused("invalid_date", _receipt(stock, received_on=day))
        assert error.field == "received_on"
    assert error.code == "invalid_date"
    assert not Container.objects.exists()


def test_a_lot_received_again_with_another_expiry_is_refused(stock):
    stock.receive(lot="KH-1", prefix="A", expires_on=timezone.localdate() + timedelta(days=100))
    error = refused(
        "expiry_differs",
        _receipt(stock, lot="KH-1", expires_on=timezone.localdate() + timedelta(days=200)),
    )
    assert error.code == "expiry_differs"
    assert error.field == "expires_on"
    assert Container.objects.count() == 1


def test_receiving_at_a_registration_that_has_lapsed_is_refused(stock):
    # given a location whose registration ends tomorrow, with its safe
    admin = stock.actor("admin")
    ending = services.registration_create(
        actor=admin, name="Old site", address="2 Old St", dea_number="FL1234563",
        valid_from=timezone.localdate() - timedelta(days=800),
        valid_until=timezone.localdate() + timedelta(days=1),
    )  # fmt: skip
    safe = services.storage_create(
        actor=admin, registration_id=ending.pk, name="Old safe", kind="safe"
    )
    # when the registration has lapsed
    clock.travel(timedelta(days=3))
    # then nothing more is received there
    error = refused(
        "registration_not_current",
        _receipt(stock, registration_id=ending.pk, storage_id=safe.pk),
    )
    assert error.code == "registration_not_current"
    assert error.field == "registration_id"


def test_an_opening_balance_larger_than_a_container_is_refused(stock):
    error = refused(
        "more_than_container",
        lambda: services.opening_record(
            actor=stock.actor("nurse"),
            registration_id=stock.registration.pk,
            storage_id=stock.safe.pk,
            product_id=stock.vial.pk,
            lot="OPEN-1",
            expires_on=timezone.localdate() + timedelta(days=90),
            label="OPEN",
            quantity=Decimal("500.5"),
            reason="Initial inventory",
        ),  # fmt: skip
    )
    assert error.code == "more_than_container"
    assert error.field == "quantity"
    assert not LedgerEntry.objects.filter(kind=EntryKind.OPENING).exists()


def test_a_transfer_to_the_storage_it_is_already_in_is_refused(stock):
    [vial] = stock.receive(prefix="STAY")
    error = refused(
        "same_place",
        lambda: services.transfer_record(
            actor=stock.actor("nurse"),
            container_id=vial.pk,
            to_registration_id=stock.registration.pk,
            to_storage_id=stock.safe.pk,
            reason="Moving it",
        ),  # fmt: skip
    )
    assert error.code == "same_place"
    assert error.field == "to_storage_id"
    assert LedgerEntry.objects.filter(container=vial).count() == 1


def test_ledger_text_longer_than_its_limit_is_refused_naming_the_field(stock):
    error = refused("too_long", _receipt(stock, supplier_name="A" * 201))
    assert error.code == "too_long"
    assert error.field == "supplier_name"
    assert not Container.objects.exists()


def _transfer(stock, vial, **overrides):
    fridge = services.storage_create(
        actor=stock.actor("admin"), registration_id=stock.registration.pk, name="Fridge",
        kind="refrigerator",
    )  # fmt: skip
    data = {
        "actor": stock.actor("nurse"), "container_id": vial.pk,
        "to_registration_id": stock.registration.pk, "to_storage_id": fridge.pk,
        "reason": "Safe repair",
    }  # fmt: skip
    return lambda: services.transfer_record(**{**data, **overrides})


@pytest.mark.parametrize(
    ("code", "field", "overrides"),
    [
        ("not_found", "to_storage_id", {"to_storage_id": 10**9}),
        ("not_found", "to_storage_id", {"to_registration_id": 10**9}),
        ("required", "reason", {"reason": "  "}),
    ],
)
def test_a_transfer_is_refused_naming_the_field(stock, code, field, overrides):
    [vial] = stock.receive(prefix="MOVE")
    error = refused(code, _transfer(stock, vial, **overrides))
    assert error.code == code
    assert error.field == field
    assert LedgerEntry.objects.filter(container=vial).count() == 1


def test_a_transfer_of_a_blocked_container_is_refused(stock):
    [vial] = stock.receive(prefix="MOVE")
    services.discrepancy_open(actor=stock.actor("nurse"), container_id=vial.pk, description="?")
    error = refused("container_blocked", _transfer(stock, vial))
    assert error.code == "container_blocked"
    assert LedgerEntry.objects.filter(container=vial).count() == 1


def test_an_opening_balance_under_a_label_in_use_is_refused_on_the_label(stock):
    stock.receive(prefix="OPEN")
    error = refused(
        "exists",
        lambda: services.opening_record(
            actor=stock.actor("nurse"),
            registration_id=stock.registration.pk,
            storage_id=stock.safe.pk,
            product_id=stock.vial.pk,
            lot="OPEN-1",
            expires_on=timezone.localdate() + timedelta(days=90),
            label="OPEN",
            quantity=Decimal("100"),
            reason="Initial inventory",
        ),  # fmt: skip
    )
    assert (error.code, error.field) == ("exists", "label")
    assert not LedgerEntry.objects.filter(kind=EntryKind.OPENING).exists()
