"""The pages of the movements other than a dose: a transfer between storage (both ends), an
opening balance, a correction of an entry, and an adjustment after a count."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ketacare.audit.models import AuditEntry
from ketacare.ledger import services
from ketacare.ledger.models import (
    Container,
    EntryKind,
    LedgerEntry,
    StockBalance,
)
from ketacare.ledger.services.counts import CountedLine
from tests.ledger.factories import PASSWORD, as_actor, stock_for
from tests.treatment.factories import session_row

pytestmark = pytest.mark.django_db


def _second_site(stock):
    """A second registered location with a cabinet, and a second storage at the first."""
    admin = stock.actor("admin")
    site = services.registration_create(
        actor=admin, name="Annex", address="12 Side St, Springfield", dea_number="FA7654321",
        valid_from=timezone.localdate() - timedelta(days=10),
    )  # fmt: skip
    cabinet = services.storage_create(
        actor=admin, registration_id=site.pk, name="Annex cabinet", kind="cabinet"
    )
    fridge = services.storage_create(
        actor=admin, registration_id=stock.registration.pk, name="Fridge 1", kind="refrigerator"
    )
    return site, cabinet, fridge


def _balance(stock, registration):
    row = StockBalance.objects.filter(registration=registration, product=stock.vial).first()
    return row.balance if row else Decimal(0)


# --- transfer ------------------------------------------------------------------------------------


def test_the_transfer_page_offers_only_the_clinics_other_storage(stock, world):
    # given a vial in the safe, other storage here and at an annex, and clinic B's ledger
    _second_site(stock)
    stock_for(world.clinic_b, world.outsiders)
    [vial] = stock.receive(prefix="T")
    # when a nurse opens the transfer page
    response = world.web(world.staff["nurse"]).get(f"/ledger/containers/{vial.pk}/transfer/")
    # then it offers the annex cabinet and the fridge, never the safe it is in or clinic B's
    assert response.status_code == 200
    choices = dict(response.context["form"].fields["to_storage_id"].choices)
    assert sorted(choices.values()) == [
        "Annex cabinet (Locked cabinet) at Annex",
        f"Fridge 1 (Locked refrigerator) at {stock.registration.name}",
    ]


def test_a_transfer_to_another_location_writes_both_ends_and_moves_the_balance(stock, world):
    # given a vial at the main site and an annex
    site, cabinet, _ = _second_site(stock)
    [vial] = stock.receive(prefix="T")
    assert _balance(stock, stock.registration) == Decimal(500)
    # when the nurse moves it to the annex cabinet
    response = world.web(world.staff["nurse"]).post(
        f"/ledger/containers/{vial.pk}/transfer/",
        {"to_registration_id": site.pk, "to_storage_id": cabinet.pk, "reason": "Annex clinic day"},
    )
    # then both ends are written and each location's balance follows the vial
    assert response.status_code == 302
    out, back_in = LedgerEntry.objects.filter(container=vial).order_by("seq")[1:]
    assert (out.kind, out.change, out.registration_id) == (
        EntryKind.TRANSFER_OUT, Decimal(-500), stock.registration.pk,
    )  # fmt: skip
    assert (back_in.kind, back_in.change, back_in.registration_id) == (
        EntryKind.TRANSFER_IN, Decimal(500), site.pk,
    )  # fmt: skip
    assert _balance(stock, stock.registration) == 0 and _balance(stock, site) == Decimal(500)
    vial.refresh_from_db()
    assert (vial.storage_id, vial.balance) == (cabinet.pk, Decimal(500))


def test_a_transfer_between_storage_at_the_same_location_writes_both_ends(stock, world):
    _, _, fridge = _second_site(stock)
    [vial] = stock.receive(prefix="T")
    response = world.web(world.staff["nurse"]).post(
        f"/ledger/containers/{vial.pk}/transfer/",
        {"to_registration_id": stock.registration.pk, "to_storage_id": fridge.pk,
         "reason": "Safe repair"},
    )  # fmt: skip
    assert response.status_code == 302
    kinds = list(LedgerEntry.objects.filter(container=vial).order_by("seq").values_list("kind"))
    assert kinds == [("receipt",), ("transfer_out",), ("transfer_in",)]
    out = LedgerEntry.objects.get(container=vial, kind=EntryKind.TRANSFER_OUT)
    assert out.detail["to_storage"] == "Fridge 1"
    assert _balance(stock, stock.registration) == Decimal(500)
    vial.refresh_from_db()
    assert vial.storage_id == fridge.pk


def test_a_transfer_to_storage_of_another_location_is_refused_on_the_storage_field(stock, world):
    # given storage at the main site chosen with the annex as the location
    site, _, fridge = _second_site(stock)
    [vial] = stock.receive(prefix="T")
    # when it is posted
    response = world.web(world.staff["nurse"]).post(
        f"/ledger/containers/{vial.pk}/transfer/",
        {"to_registration_id": site.pk, "to_storage_id": fridge.pk, "reason": "Mixed up"},
    )
    # then it is refused on the storage field and nothing is written
    assert response.status_code == 422
    assert response.context["form"].errors["to_storage_id"] == [
        "Choose storage at the receiving location."
    ]
    assert LedgerEntry.objects.filter(container=vial).count() == 1


def test_a_blocked_container_does_not_move(stock, world):
    _, _, fridge = _second_site(stock)
    [vial] = stock.receive(prefix="T")
    services.discrepancy_open(
        actor=stock.actor("nurse"), container_id=vial.pk, description="Seal broken"
    )
    response = world.web(world.staff["nurse"]).post(
        f"/ledger/containers/{vial.pk}/transfer/",
        {"to_registration_id": stock.registration.pk, "to_storage_id": fridge.pk, "reason": "x"},
    )
    assert response.status_code == 422
    assert response.context["form"].non_field_errors() == ["Only unblocked stock moves."]
    assert LedgerEntry.objects.filter(container=vial).count() == 1


def test_another_clinics_container_cannot_be_transferred(stock, world):
    theirs = stock_for(world.clinic_b, world.outsiders).receive(prefix="B")[0]
    client = world.web(world.staff["nurse"])
    url = f"/ledger/containers/{theirs.pk}/transfer/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404
    assert LedgerEntry.objects.filter(container=theirs).count() == 1


@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_a_role_that_may_not_receive_may_not_transfer(stock, world, role):
    [vial] = stock.receive(prefix="T")
    response = world.web(world.staff[role]).get(f"/ledger/containers/{vial.pk}/transfer/")
    assert response.status_code == 403


# --- opening balance -----------------------------------------------------------------------------


def _opening(stock, **overrides):
    data = {
        "registration_id": stock.registration.pk, "storage_id": stock.safe.pk,
        "product_id": stock.vial.pk, "lot": "OLD-7",
        "expires_on": (timezone.localdate() + timedelta(days=60)).isoformat(),
        "label": "SHELF", "quantity": "320", "reason": "Initial inventory",
    }  # fmt: skip
    return {**data, **overrides}


def test_the_opening_page_offers_the_clinics_products_and_storage(stock, world):
    stock_for(world.clinic_b, world.outsiders)
    response = world.web(world.staff["admin"]).get("/ledger/opening/")
    assert response.status_code == 200
    form = response.context["form"]
    assert dict(form.fields["storage_id"].choices) == {stock.safe.pk: str(stock.safe)}
    assert set(dict(form.fields["product_id"].choices)) == {stock.vial.pk, stock.device.pk}


def test_an_opening_balance_brings_a_container_on_the_shelf_into_the_ledger(stock, world):
    response = world.web(world.staff["admin"]).post("/ledger/opening/", _opening(stock))
    assert response.status_code == 302
    container = Container.objects.get(label="SHELF-001")
    entry = LedgerEntry.objects.get(container=container)
    assert (entry.kind, entry.change, entry.reason) == (
        EntryKind.OPENING, Decimal(320), "Initial inventory",
    )  # fmt: skip
    assert container.balance == Decimal(320)
    assert _balance(stock, stock.registration) == Decimal(320)
    assert response["Location"] == f"/ledger/containers/{container.pk}/"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "500.5"}, "quantity", "More than one container holds."),
        ({"label": "V"}, "label", "Labels already in use: V-001."),
        ({"expires_on": "2000-01-01"}, "expires_on", None),
    ],
)
def test_a_refused_opening_balance_says_why_on_its_field_and_writes_nothing(
    stock, world, overrides, field, message
):
    stock.receive(prefix="V")
    before = LedgerEntry.objects.count()
    response = world.web(world.staff["admin"]).post(
        "/ledger/opening/", _opening(stock, **overrides)
    )
    assert response.status_code == 422
    errors = response.context["form"].errors[field]
    assert errors and (message is None or errors == [message])
    assert LedgerEntry.objects.count() == before
    assert not Container.objects.filter(label="SHELF-001").exists()


def test_another_clinics_storage_is_not_a_choice_for_an_opening_balance(stock, world):
    theirs = stock_for(world.clinic_b, world.outsiders)
    response = world.web(world.staff["admin"]).post(
        "/ledger/opening/", _opening(stock, storage_id=theirs.safe.pk)
    )
    assert response.status_code == 422
    assert "storage_id" in response.context["form"].errors
    assert not LedgerEntry.objects.filter(kind=EntryKind.OPENING).exists()


@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_a_role_that_may_not_count_may_not_record_an_opening_balance(stock, world, role):
    client = world.web(world.staff[role])
    assert client.get("/ledger/opening/").status_code == 403
    assert client.post("/ledger/opening/", _opening(stock)).status_code == 403
    assert not LedgerEntry.objects.filter(kind=EntryKind.OPENING).exists()


# --- correction of an entry ----------------------------------------------------------------------


def _correction(cosigner, **overrides):
    data = {
        "change": "-10", "reason": "The vial held 490 mg as labelled",
        "cosigner_username": cosigner.username, "cosigner_password": PASSWORD,
    }  # fmt: skip
    return {**data, **overrides}


def test_the_correction_page_shows_the_entry(stock, world):
    [vial] = stock.receive(prefix="C")
    receipt = LedgerEntry.objects.get(container=vial)
    response = world.web(world.staff["prescriber"]).get(f"/ledger/entries/{receipt.pk}/correct/")
    assert response.status_code == 200
    assert b"Correct entry #" in response.content and b"C-001" in response.content


def test_a_correction_is_a_new_entry_pointing_at_the_old_one_and_changes_the_balance(stock, world):
    [vial] = stock.receive(prefix="C")
    receipt = LedgerEntry.objects.get(container=vial)
    response = world.web(world.staff["prescriber"]).post(
        f"/ledger/entries/{receipt.pk}/correct/", _correction(world.staff["admin"])
    )
    assert response.status_code == 302
    correction = LedgerEntry.objects.get(kind=EntryKind.CORRECTION)
    assert correction.corrects_id == receipt.pk and correction.witness == world.staff["admin"]
    assert correction.change == Decimal(-10) and correction.container_balance == Decimal(490)
    assert LedgerEntry.objects.get(pk=receipt.pk).amount == Decimal(500)  # unchanged
    vial.refresh_from_db()
    assert vial.balance == Decimal(490)


@pytest.mark.parametrize(
    ("cosigner", "password", "message"),
    [
        ("prescriber", PASSWORD, None),  # the recorder cannot co-sign
        (
            "admin",
            "not-the-password",
            "That name and password do not match a member of this clinic.",
        ),
    ],
)
def test_a_refused_correction_is_shown_on_the_cosigner_field_and_writes_nothing(
    stock, world, cosigner, password, message
):
    [vial] = stock.receive(prefix="C")
    receipt = LedgerEntry.objects.get(container=vial)
    response = world.web(world.staff["prescriber"]).post(
        f"/ledger/entries/{receipt.pk}/correct/",
        _correction(world.staff[cosigner], cosigner_password=password),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors["cosigner_username"]
    assert errors and (message is None or errors == [message])
    assert not LedgerEntry.objects.filter(kind=EntryKind.CORRECTION).exists()
    vial.refresh_from_db()
    assert vial.balance == Decimal(500)


def test_reading_an_entry_that_names_a_patient_to_correct_it_is_audited(stock, world):
    [vial] = stock.receive(prefix="C")
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity="50"
    )
    entry = LedgerEntry.objects.get(draw=draw, kind=EntryKind.DRAW)
    world.web(world.staff["prescriber"]).get(f"/ledger/entries/{entry.pk}/correct/")
    assert AuditEntry.objects.filter(
        action="read", object_type="ledger_entry", object_id=str(entry.pk),
        patient_id=world.patient_a.pk,
    ).exists()  # fmt: skip


def test_another_clinics_entry_cannot_be_corrected(stock, world):
    theirs = stock_for(world.clinic_b, world.outsiders).receive(prefix="B")[0]
    entry = LedgerEntry.objects.get(container=theirs)
    client = world.web(world.staff["prescriber"])
    url = f"/ledger/entries/{entry.pk}/correct/"
    assert client.get(url).status_code == 404
    assert client.post(url, _correction(world.staff["admin"])).status_code == 404
    assert not LedgerEntry.objects.filter(kind=EntryKind.CORRECTION).exists()


@pytest.mark.parametrize("role", ["nurse", "therapist", "front_desk"])
def test_a_role_that_may_not_adjust_may_not_correct(stock, world, role):
    [vial] = stock.receive(prefix="C")
    entry = LedgerEntry.objects.get(container=vial)
    response = world.web(world.staff[role]).post(
        f"/ledger/entries/{entry.pk}/correct/", _correction(world.staff["admin"])
    )
    assert response.status_code == 403
    assert not LedgerEntry.objects.filter(kind=EntryKind.CORRECTION).exists()


def test_the_container_page_links_to_transfer_and_correct_for_those_who_may(stock, world):
    [vial] = stock.receive(prefix="C")
    entry = LedgerEntry.objects.get(container=vial)
    prescriber = world.web(world.staff["prescriber"]).get(f"/ledger/containers/{vial.pk}/")
    nurse = world.web(world.staff["nurse"]).get(f"/ledger/containers/{vial.pk}/")
    correct = f"/ledger/entries/{entry.pk}/correct/".encode()
    transfer = f"/ledger/containers/{vial.pk}/transfer/".encode()
    assert correct in prescriber.content and transfer in prescriber.content
    assert correct not in nurse.content and transfer in nurse.content
    assert b"/ledger/opening/" in world.web(world.staff["nurse"]).get("/ledger/").content


# --- adjustment after a count --------------------------------------------------------------------


def test_an_adjustment_after_a_count_changes_the_balance_with_a_cosignature(stock, world):
    # given a shift count that found 480 mg in a 500 mg vial
    [vial] = stock.receive(prefix="A")
    services.count_record(
        actor=as_actor(world.staff["nurse"], world.clinic_a, "nurse"),
        registration_id=stock.registration.pk, kind="shift",
        second_username=world.staff["prescriber"].username, second_password=PASSWORD,
        lines=[CountedLine(vial.pk, "480")],
    )  # fmt: skip
    discrepancy = vial.discrepancies.get()
    client = world.web(world.staff["prescriber"])
    url = f"/ledger/discrepancies/{discrepancy.pk}/"
    # when the prescriber adjusts without a co-signer, then with the admin
    refused = client.post(url, {"resolution": "Spilled at count", "adjust_to": "480"})
    done = client.post(
        url,
        {"resolution": "Spilled at count", "adjust_to": "480",
         "cosigner_username": world.staff["admin"].username, "cosigner_password": PASSWORD},
    )  # fmt: skip
    # then the first is refused on the co-signer field, the second adjusts the balance
    assert refused.status_code == 422 and refused.context["form"].errors["cosigner_username"]
    assert done.status_code == 302
    adjustment = LedgerEntry.objects.get(kind=EntryKind.ADJUSTMENT)
    assert (adjustment.change, adjustment.witness) == (Decimal(-20), world.staff["admin"])
    vial.refresh_from_db()
    assert (vial.balance, vial.blocked) == (Decimal(480), False)
