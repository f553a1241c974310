"""A witness's wrong password is counted although the step it refused rolled back; after five
the witness is locked out of witnessing, counting and co-signing, even with the right one."""

from datetime import timedelta

import pytest

from ketacare.accounts.reauth import MAX_FAILURES
from ketacare.audit.models import AuditEntry
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.ledger import services
from ketacare.ledger.models import EntryKind, LedgerEntry, WitnessLock
from ketacare.ledger.services.counts import CountedLine
from tests.ledger.factories import PASSWORD
from tests.treatment.factories import session_row

pytestmark = pytest.mark.django_db

LOCKED = b"may not witness or co-sign until"


@pytest.fixture
def draw(stock, world):
    [vial] = stock.receive(prefix="W")
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    return services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity="50"
    )


def _waste(world, draw, password):
    return world.web(world.staff["nurse"]).post(
        f"/ledger/draws/{draw.pk}/waste/",
        {"quantity": "10", "witness_username": world.staff["prescriber"].username,
         "witness_password": password},
    )  # fmt: skip


def _lock_of(world, role):
    return WitnessLock.objects.filter(clinic=world.clinic_a, user=world.staff[role]).first()


def test_a_wrong_witness_password_is_counted_although_the_waste_was_rolled_back(draw, world):
    # when the witness's password is wrong
    response = _waste(world, draw, "not-it")
    # then the waste is refused on the witness field and not written
    assert response.status_code == 422
    assert response.context["form"].errors["witness_username"] == [
        "That name and password do not match a member of this clinic."
    ]
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()
    # but the failure is kept, against the witness, and on the audit trail
    assert _lock_of(world, "prescriber").failed_attempts == 1
    assert AuditEntry.objects.filter(
        action="login_failed", object_type="ledger_witness",
        object_id=str(world.staff["prescriber"].pk),
    ).exists()  # fmt: skip


def test_five_wrong_witness_passwords_lock_the_witness_even_with_the_right_one(draw, world):
    # given five wrong passwords for the witness
    for _ in range(MAX_FAILURES):
        assert _waste(world, draw, "guess").status_code == 422
    lock = _lock_of(world, "prescriber")
    assert lock.locked_until is not None and lock.locked_until > clock.wall_now()
    assert AuditEntry.objects.filter(action="locked_out", object_type="ledger_witness").exists()
    # when the right password is typed
    response = _waste(world, draw, PASSWORD)
    # then the witness step is still refused, saying why, on the witness field
    assert response.status_code == 422
    assert LOCKED in response.content
    assert "until" in response.context["form"].errors["witness_username"][0]
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()


def test_a_locked_witness_is_refused_by_the_service_with_the_right_password(stock, draw, world):
    WitnessLock.objects.create(
        clinic=world.clinic_a, user=world.staff["prescriber"],
        locked_until=clock.wall_now() + timedelta(minutes=10),
    )  # fmt: skip
    with pytest.raises(Refused) as caught:
        services.draw_waste(
            actor=stock.actor("nurse"), draw_id=draw.pk, quantity="10",
            witness_username=world.staff["prescriber"].username, witness_password=PASSWORD,
        )  # fmt: skip
    assert caught.value.code == "witness_locked"
    assert caught.value.field == "witness_username"


def test_the_lock_lapses_and_a_right_password_clears_the_count(draw, world):
    WitnessLock.objects.create(
        clinic=world.clinic_a, user=world.staff["prescriber"], failed_attempts=3,
        locked_until=clock.wall_now() - timedelta(minutes=1),
    )  # fmt: skip
    response = _waste(world, draw, PASSWORD)
    assert response.status_code == 302
    assert _lock_of(world, "prescriber").failed_attempts == 0


def test_an_unknown_name_is_answered_alike_and_counts_against_nobody(draw, world):
    response = world.web(world.staff["nurse"]).post(
        f"/ledger/draws/{draw.pk}/waste/",
        {"quantity": "10", "witness_username": "nobody-here", "witness_password": "x"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["witness_username"] == [
        "That name and password do not match a member of this clinic."
    ]
    assert not WitnessLock.objects.exists()


def test_the_lock_is_the_clinics_only(draw, world):
    for _ in range(MAX_FAILURES):
        _waste(world, draw, "guess")
    assert not WitnessLock.objects.exclude(clinic=world.clinic_a).exists()


def test_wrong_passwords_on_the_destruction_count_and_correction_pages_are_counted(stock, world):
    # given a vial and a prescriber recording
    [vial] = stock.receive(prefix="D")
    client = world.web(world.staff["prescriber"])
    admin, nurse = world.staff["admin"].username, world.staff["nurse"].username
    # when the second witness of a destruction, a second counter, and a co-signer are wrong
    client.post(
        f"/ledger/containers/{vial.pk}/destroy/",
        {"quantity": "500", "method": "Rx destroyer", "witness_username": nurse,
         "witness_password": PASSWORD, "second_witness_username": admin,
         "second_witness_password": "wrong"},
    )  # fmt: skip
    client.post(
        "/ledger/count/",
        {"registration_id": stock.registration.pk, "kind": "shift", "second_username": nurse,
         "second_password": "wrong", f"counted_{vial.pk}": "500"},
    )  # fmt: skip
    receipt = LedgerEntry.objects.get(container=vial)
    client.post(
        f"/ledger/entries/{receipt.pk}/correct/",
        {"change": "-1", "reason": "x", "cosigner_username": admin, "cosigner_password": "wrong"},
    )
    # then each is counted against the person named, and nothing was written
    assert _lock_of(world, "admin").failed_attempts == 2
    assert _lock_of(world, "nurse").failed_attempts == 1
    assert LedgerEntry.objects.filter(container=vial).count() == 1


def test_a_locked_second_counter_is_refused_on_the_count(stock, world):
    [vial] = stock.receive(prefix="K")
    WitnessLock.objects.create(
        clinic=world.clinic_a, user=world.staff["prescriber"],
        locked_until=clock.wall_now() + timedelta(minutes=10),
    )  # fmt: skip
    with pytest.raises(Refused) as caught:
        services.count_record(
            actor=stock.actor("nurse"), registration_id=stock.registration.pk, kind="shift",
            second_username=world.staff["prescriber"].username, second_password=PASSWORD,
            lines=[CountedLine(vial.pk, "500")],
        )  # fmt: skip
    assert (caught.value.code, caught.value.field) == ("witness_locked", "second_username")
