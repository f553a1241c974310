"""The ledger's services against a real database: movements, refusals and invariants."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketacare.audit.models import AppendOnlyError
from ketacare.errors import Refused
from ketacare.ledger import services
from ketacare.ledger.models import (
    Container,
    Discrepancy,
    EntryKind,
    LedgerEntry,
    Lot,
    StockBalance,
)
from ketacare.ledger.services.counts import CountedLine
from tests.factories import member
from tests.ledger.factories import PASSWORD, VIAL

pytestmark = pytest.mark.django_db


def refused(code, call):
    with pytest.raises(Refused) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_a_box_of_vials_received_puts_each_vial_on_the_shelf_with_its_entry(stock):
    # when a box of five vials is received
    vials = stock.receive(count=5)
    # then each vial holds 500 mg, the stock line 2500 mg, and the entries chain 1..5
    assert [v.balance for v in vials] == [Decimal("500")] * 5
    assert StockBalance.objects.get(product=stock.vial).balance == Decimal("2500")
    entries = list(LedgerEntry.objects.filter(kind=EntryKind.RECEIPT).order_by("seq"))
    assert [e.stock_balance for e in entries] == [Decimal(500 * n) for n in range(1, 6)]
    assert entries[0].receipt.supplier_dea == "RA1234563"


def test_receiving_an_expired_lot_is_refused(stock):
    assert (
        refused(
            "expired", lambda: stock.receive(expires_on=timezone.localdate() - timedelta(days=1))
        ).code
        == "expired"
    )


def test_a_bad_supplier_dea_number_is_refused_naming_the_field(stock):
    error = refused(
        "invalid",
        lambda: services.receipt_record(
            actor=stock.actor("nurse"),
            registration_id=stock.registration.pk,
            storage_id=stock.safe.pk,
            product_id=stock.vial.pk,
            lot="L9",
            expires_on=timezone.localdate() + timedelta(days=30),
            containers=1,
            label_prefix="X",
            supplier_name="S",
            supplier_address="A",
            supplier_dea="12",
            invoice="I",
            received_on=timezone.localdate(),
        ),  # fmt: skip
    )
    assert error.field == "supplier_dea"


def test_a_draw_takes_from_the_container_and_the_stock_line(stock, session):
    [vial] = stock.receive()
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity="50"
    )
    vial.refresh_from_db()
    assert vial.balance == Decimal("450") and vial.status == "open"
    assert draw.patient_id == session.patient_id
    assert StockBalance.objects.get(product=stock.vial).balance == Decimal("450")


@pytest.mark.parametrize(
    ("quantity", "code"),
    [("500.001", "over_draw"), ("-1", "not_positive"), ("0", "not_positive"), ("1.0001", "invalid"),
     ("abc", "invalid")],
)  # fmt: skip
def test_over_draws_negative_zero_and_inexact_quantities_are_refused(
    stock, session, quantity, code
):
    [vial] = stock.receive()
    refused(
        code,
        lambda: services.draw_create(
            actor=stock.actor("nurse"),
            container_id=vial.pk,
            session_id=session.pk,
            quantity=quantity,
        ),  # fmt: skip
    )
    vial.refresh_from_db()
    assert vial.balance == Decimal("500")
    assert not LedgerEntry.objects.filter(kind=EntryKind.DRAW).exists()


def test_a_draw_from_an_expired_lot_is_refused(stock, session):
    [vial] = stock.receive()
    Lot.objects.filter(pk=vial.lot_id).update(expires_on=timezone.localdate() - timedelta(days=1))
    assert (
        refused(
            "expired",
            lambda: services.draw_create(
                actor=stock.actor("nurse"),
                container_id=vial.pk,
                session_id=session.pk,
                quantity="5",
            ),
        ).code
        == "expired"
    )


def test_a_draw_for_a_session_of_another_clinic_is_refused(stock, world):
    from tests.treatment.factories import session_row

    [vial] = stock.receive()
    theirs = session_row(world.clinic_b, world.patient_b, world.outsiders)
    assert (
        refused(
            "not_found",
            lambda: services.draw_create(
                actor=stock.actor("nurse"), container_id=vial.pk, session_id=theirs.pk, quantity="5"
            ),
        ).code
        == "not_found"
    )


def _drawn(stock, session, quantity="50"):
    [vial] = stock.receive()
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity=quantity
    )
    return vial, draw


def test_given_wasted_and_returned_close_the_draw_to_the_milligram(stock, session):
    vial, draw = _drawn(stock, session)
    nurse = stock.actor("nurse")
    services.draw_administer(actor=nurse, draw_id=draw.pk, dose_mg=Decimal("35"))
    services.draw_return(actor=nurse, draw_id=draw.pk, quantity="5")
    entry = services.draw_waste(
        actor=nurse, draw_id=draw.pk, quantity="10",
        witness_username=stock.staff["prescriber"].username, witness_password=PASSWORD,
    )  # fmt: skip
    draw.refresh_from_db()
    vial.refresh_from_db()
    assert draw.closed_at is not None
    assert draw.administered + draw.wasted + draw.returned == draw.drawn
    assert vial.balance == Decimal("455")
    assert entry.witness == stock.staff["prescriber"]
    assert (
        refused(
            "draw_closed", lambda: services.draw_return(actor=nurse, draw_id=draw.pk, quantity="1")
        ).code
        == "draw_closed"
    )


def test_more_than_drawn_cannot_be_wasted(stock, session):
    _, draw = _drawn(stock, session)
    assert (
        refused(
            "more_than_drawn",
            lambda: services.draw_waste(
                actor=stock.actor("nurse"),
                draw_id=draw.pk,
                quantity="50.001",
                witness_username=stock.staff["prescriber"].username,
                witness_password=PASSWORD,
            ),  # fmt: skip
        ).code
        == "more_than_drawn"
    )


def test_the_nurse_who_drew_cannot_witness_the_waste_even_when_a_colleague_records_it(
    stock, session
):
    # given the nurse drew, and a prescriber records the waste naming the nurse as witness
    _, draw = _drawn(stock, session)
    assert (
        refused(
            "witness_drew",
            lambda: services.draw_waste(
                actor=stock.actor("prescriber"),
                draw_id=draw.pk,
                quantity="10",
                witness_username=stock.staff["nurse"].username,
                witness_password=PASSWORD,
            ),  # fmt: skip
        ).code
        == "witness_drew"
    )
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()


def test_a_witness_with_a_wrong_password_or_without_the_role_is_refused(stock, session):
    _, draw = _drawn(stock, session)

    def waste(username, password):
        return lambda: services.draw_waste(
            actor=stock.actor("nurse"), draw_id=draw.pk, quantity="10", witness_username=username,
            witness_password=password,
        )  # fmt: skip

    assert (
        refused(
            "second_person_not_confirmed", waste(stock.staff["prescriber"].username, "wrong")
        ).code
        == "second_person_not_confirmed"
    )
    assert (
        refused("second_person_not_confirmed", waste("nobody", PASSWORD)).code
        == "second_person_not_confirmed"
    )
    assert (
        refused(
            "second_person_not_permitted", waste(stock.staff["front_desk"].username, PASSWORD)
        ).code
        == "second_person_not_permitted"
    )
    assert refused("required", waste("", PASSWORD)).code == "required"


def test_a_witness_from_another_clinic_is_refused(stock, session, world):
    _, draw = _drawn(stock, session)
    assert (
        refused(
            "second_person_not_confirmed",
            lambda: services.draw_waste(
                actor=stock.actor("nurse"),
                draw_id=draw.pk,
                quantity="10",
                witness_username=world.outsiders["prescriber"].username,
                witness_password=PASSWORD,
            ),  # fmt: skip
        ).code
        == "second_person_not_confirmed"
    )


def test_a_dose_that_is_not_a_whole_number_of_devices_is_refused(stock, session):
    [device] = stock.receive(stock.device, prefix="D")
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=device.pk, session_id=session.pk, quantity="1"
    )
    assert (
        refused(
            "inexact_units",
            lambda: services.draw_administer(
                actor=stock.actor("nurse"), draw_id=draw.pk, dose_mg=Decimal("14")
            ),
        ).code
        == "inexact_units"
    )
    entry = services.draw_administer(
        actor=stock.actor("nurse"), draw_id=draw.pk, dose_mg=Decimal("28"), lot="L1",
        device_label="D-001",
    )  # fmt: skip
    assert entry.amount == Decimal("1") and entry.dose_mg == Decimal("28")


def test_a_device_given_that_differs_from_the_draw_opens_a_discrepancy_that_blocks_it(
    stock, session
):
    devices = stock.receive(stock.device, count=2, prefix="D")
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=devices[0].pk, session_id=session.pk, quantity="1"
    )
    # when the nurse records a device of another lot
    entry = services.draw_administer(
        actor=stock.actor("nurse"), draw_id=draw.pk, dose_mg=Decimal("28"), lot="L2",
        device_label="D-002",
    )  # fmt: skip
    # then the dose is recorded as given, a discrepancy is open and the device's container blocked
    assert entry.detail["mismatch"]
    discrepancy = Discrepancy.objects.get(container=devices[0])
    assert discrepancy.kind == "lot_mismatch" and discrepancy.resolved_at is None
    devices[0].refresh_from_db()
    assert devices[0].blocked


def test_a_blocked_container_cannot_be_drawn_from(stock, session):
    [vial] = stock.receive()
    services.discrepancy_open(actor=stock.actor("nurse"), container_id=vial.pk, description="seal")
    assert (
        refused(
            "container_blocked",
            lambda: services.draw_create(
                actor=stock.actor("nurse"),
                container_id=vial.pk,
                session_id=session.pk,
                quantity="5",
            ),
        ).code
        == "container_blocked"
    )


def _count(stock, containers_counted, *, second="prescriber", by="nurse", kind="shift", timing=""):
    return services.count_record(
        actor=stock.actor(by), registration_id=stock.registration.pk, kind=kind, timing=timing,
        second_username=stock.staff[second].username, second_password=PASSWORD,
        lines=[CountedLine(c.pk, counted) for c, counted in containers_counted],
    )  # fmt: skip


def test_a_shift_count_with_a_variance_opens_a_discrepancy_that_blocks_the_container(stock):
    vials = stock.receive(count=2)
    count = _count(stock, [(vials[0], "500"), (vials[1], "480")])
    lines = {line.container_id: line for line in count.lines.all()}
    assert lines[vials[0].pk].discrepancy is None
    discrepancy = lines[vials[1].pk].discrepancy
    assert discrepancy.expected == Decimal("500") and discrepancy.found == Decimal("480")
    assert Container.objects.get(pk=vials[1].pk).blocked


def test_a_count_by_one_person_twice_is_refused(stock):
    [vial] = stock.receive()
    assert (
        refused("same_person", lambda: _count(stock, [(vial, "500")], second="nurse")).code
        == "same_person"
    )


def test_an_inventory_says_when_it_was_taken_and_counts_every_container(stock):
    vials = stock.receive(count=2)
    assert (
        refused("required", lambda: _count(stock, [(vials[0], "500")], kind="biennial")).code
        == "required"
    )
    assert (
        refused(
            "incomplete_inventory",
            lambda: _count(stock, [(vials[0], "500")], kind="biennial", timing="close"),
        ).code
        == "incomplete_inventory"
    )
    count = _count(stock, [(v, "500") for v in vials], kind="initial", timing="opening")
    assert count.lines.count() == 2


def test_an_adjustment_needs_a_reason_and_a_co_signature_from_someone_else(stock):
    [vial] = stock.receive()
    count = _count(stock, [(vial, "498")])
    discrepancy = count.lines.get().discrepancy
    admin = stock.actor("admin")

    def resolve(**kwargs):
        values = {"resolution": "Spilled when drawing; seen by both.", "adjust_to": "498",
                  "cosigner_username": stock.staff["prescriber"].username,
                  "cosigner_password": PASSWORD}  # fmt: skip
        values.update(kwargs)
        return lambda: services.discrepancy_resolve(
            actor=admin, discrepancy_id=discrepancy.pk, **values
        )

    assert refused("required", resolve(resolution=" ")).code == "required"
    assert (
        refused("second_person_not_confirmed", resolve(cosigner_password="wrong")).code
        == "second_person_not_confirmed"
    )
    assert (
        refused("same_person", resolve(cosigner_username=stock.staff["admin"].username)).code
        == "same_person"
    )
    resolve()()
    vial.refresh_from_db()
    assert vial.balance == Decimal("498") and not vial.blocked
    adjustment = LedgerEntry.objects.get(kind=EntryKind.ADJUSTMENT)
    assert adjustment.change == Decimal("-2") and adjustment.witness == stock.staff["prescriber"]
    assert refused("already_resolved", resolve()).code == "already_resolved"


def test_destruction_needs_two_different_witnesses_other_than_the_recorder(stock):
    [vial] = stock.receive()
    admin = stock.actor("admin")

    def destroy(first, second):
        return lambda: services.destruction_record(
            actor=admin, container_id=vial.pk, quantity="500", method="Rendered non-retrievable",
            witness_username=first.username, witness_password=PASSWORD,
            second_witness_username=second.username, second_witness_password=PASSWORD,
        )  # fmt: skip

    nurse, prescriber = stock.staff["nurse"], stock.staff["prescriber"]
    assert refused("two_witnesses", destroy(nurse, nurse)).code == "two_witnesses"
    entry = destroy(nurse, prescriber)()
    assert entry.kind == EntryKind.DESTRUCTION and entry.second_witness == prescriber
    assert entry.detail["registrant_dea"] == "FK1234563"
    vial.refresh_from_db()
    assert vial.status == "gone" and vial.balance == 0


def test_the_recorder_cannot_witness_a_destruction(stock):
    [vial] = stock.receive()
    prescriber = stock.actor("prescriber")
    assert (
        refused(
            "witness_is_recorder",
            lambda: services.destruction_record(
                actor=prescriber,
                container_id=vial.pk,
                quantity="1",
                method="m",
                witness_username=stock.staff["prescriber"].username,
                witness_password=PASSWORD,
                second_witness_username=stock.staff["nurse"].username,
                second_witness_password=PASSWORD,
            ),  # fmt: skip
        ).code
        == "witness_is_recorder"
    )


def test_a_theft_is_recorded_with_its_form_106_deadlines(stock):
    [vial] = stock.receive()
    discovered = timezone.localdate()
    report = services.theft_loss_record(
        actor=stock.actor("prescriber"), container_id=vial.pk, quantity="500", kind="theft",
        discovered_on=discovered, circumstances="Safe found open at 07:00.",
    )  # fmt: skip
    assert report.form_106_due_on == discovered + timedelta(days=45)
    assert report.notice_due_on > discovered and report.notice_due_on.weekday() < 5
    services.theft_loss_update(
        actor=stock.actor("prescriber"), theft_loss_id=report.pk, notice_sent_on=discovered
    )
    assert (
        refused(
            "already_recorded",
            lambda: services.theft_loss_update(
                actor=stock.actor("prescriber"), theft_loss_id=report.pk, notice_sent_on=discovered
            ),
        ).code
        == "already_recorded"
    )


def test_a_correction_is_a_new_entry_pointing_at_the_old_one(stock):
    [vial] = stock.receive()
    receipt = LedgerEntry.objects.get(container=vial)
    correction = services.entry_correct(
        actor=stock.actor("admin"), entry_id=receipt.pk, change="-10",
        reason="Vial was 490 mg as labelled", cosigner_username=stock.staff["prescriber"].username,
        cosigner_password=PASSWORD,
    )  # fmt: skip
    assert correction.corrects == receipt and correction.kind == EntryKind.CORRECTION
    assert LedgerEntry.objects.get(pk=receipt.pk).amount == Decimal("500")  # unchanged


def test_entries_cannot_be_changed_or_deleted(stock):
    [vial] = stock.receive()
    entry = LedgerEntry.objects.get(container=vial)
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_the_database_refuses_a_negative_balance(stock):
    [vial] = stock.receive()
    with pytest.raises(IntegrityError), transaction.atomic():
        Container.objects.filter(pk=vial.pk).update(balance=Decimal("-0.001"))


def test_a_role_without_the_permission_is_refused(stock, session):
    from django.core.exceptions import PermissionDenied

    [vial] = stock.receive()
    with pytest.raises(PermissionDenied):
        services.draw_create(
            actor=stock.actor("admin"), container_id=vial.pk, session_id=session.pk, quantity="5"
        )


def test_setup_refusals_name_their_field(stock):
    admin = stock.actor("admin")
    assert refused("exists", lambda: services.product_create(actor=admin, **VIAL)).code == "exists"
    bad = {**VIAL, "ndc": "1", "unit": "mL", "mg_per_unit": None}
    assert (
        refused("required", lambda: services.product_create(actor=admin, **bad)).code == "required"
    )
    assert refused("exists", lambda: services.registration_create(
        actor=admin, name="n", address="a", dea_number="FK1234563",
        valid_from=timezone.localdate())).code == "exists"  # fmt: skip


def test_a_member_of_the_clinic_with_the_role_may_witness(stock, session):
    other_nurse = member(stock.clinic, "nurse", "a.nurse2")
    _, draw = _drawn(stock, session)
    entry = services.draw_waste(
        actor=stock.actor("nurse"), draw_id=draw.pk, quantity="50",
        witness_username=other_nurse.username, witness_password=PASSWORD,
    )  # fmt: skip
    assert entry.witness == other_nurse
