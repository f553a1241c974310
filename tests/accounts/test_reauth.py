"""Signing re-authenticates: password or signing PIN, in the same request; wrong ones lock."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.reauth import (
    MAX_FAILURES,
    SigningPin,
    reauth_require,
    reauthenticate,
    signing_pin_set,
)
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.errors import Refused
from ketacare.screening.models import Screening
from tests.factories import TEST_PASSWORD
from tests.screening.factories import ScreeningFactory

pytestmark = pytest.mark.django_db


def _actor(world, role="prescriber"):
    return Actor(user=world.staff[role], clinic=world.clinic_a, role=Role(role))


def test_the_password_stamps_the_actor_for_this_request(world):
    stamped = reauthenticate(actor=_actor(world), secret=TEST_PASSWORD)
    assert stamped.reauthenticated_at is not None
    reauth_require(stamped, what="the order")  # does not raise


def test_signing_without_re_authentication_is_refused(world):
    with pytest.raises(Refused) as refused:
        reauth_require(_actor(world), what="the order")
    assert refused.value.code == "reauth_required"
    assert refused.value.field == "signing_secret"


def test_a_stale_stamp_is_refused(world):
    old = dataclasses.replace(
        _actor(world), reauthenticated_at=timezone.now() - timedelta(minutes=10)
    )
    with pytest.raises(Refused) as refused:
        reauth_require(old, what="the order")
    assert refused.value.code == "reauth_required"


def test_a_wrong_password_is_refused_and_counted(world):
    with pytest.raises(Refused) as refused:
        reauthenticate(actor=_actor(world), secret="not-my-password")
    assert refused.value.code == "reauth_failed"
    assert SigningPin.objects.get(user=world.staff["prescriber"]).failed_attempts == 1


def test_an_empty_secret_is_refused(world):
    with pytest.raises(Refused) as refused:
        reauthenticate(actor=_actor(world), secret="")
    assert refused.value.code == "reauth_failed"


def test_a_signing_pin_is_set_with_the_password_and_then_signs(world):
    actor = _actor(world)
    signing_pin_set(actor=actor, password=TEST_PASSWORD, pin="4071")
    assert reauthenticate(actor=actor, secret="4071").reauthenticated_at is not None
    assert "4071" not in SigningPin.objects.get(user=actor.user).pin_hash


@pytest.mark.parametrize(
    ("password", "pin", "code"),
    [
        ("wrong-password", "4071", "reauth_failed"),
        (TEST_PASSWORD, "12", "pin_invalid"),
        (TEST_PASSWORD, "abcd", "pin_invalid"),
        (TEST_PASSWORD, "1111", "pin_invalid"),
        (TEST_PASSWORD, "1234", "pin_invalid"),
        (TEST_PASSWORD, "9876", "pin_invalid"),
    ],
)
def test_a_weak_pin_or_the_wrong_password_is_refused(world, password, pin, code):
    with pytest.raises(Refused) as refused:
        signing_pin_set(actor=_actor(world), password=password, pin=pin)
    assert refused.value.code == code


def test_another_users_pin_does_not_sign_for_me(world):
    signing_pin_set(actor=_actor(world, "nurse"), password=TEST_PASSWORD, pin="4071")
    with pytest.raises(Refused):
        reauthenticate(actor=_actor(world), secret="4071")


def test_five_wrong_secrets_lock_signing_even_for_the_right_one(world):
    actor = _actor(world)
    for _ in range(MAX_FAILURES):
        with pytest.raises(Refused):
            reauthenticate(actor=actor, secret="guess")
    with pytest.raises(Refused) as refused:
        reauthenticate(actor=actor, secret=TEST_PASSWORD)
    assert refused.value.code == "reauth_locked"


def test_the_lock_lifts_after_fifteen_minutes(world):
    actor = _actor(world)
    SigningPin.objects.create(user=actor.user, locked_until=timezone.now() - timedelta(seconds=1))
    assert reauthenticate(actor=actor, secret=TEST_PASSWORD).reauthenticated_at


def _screening(world):
    return ScreeningFactory(patient=world.patient_a, run_by=world.staff["nurse"])


def test_the_sign_page_refuses_without_the_password_and_signs_with_it(world):
    screening = _screening(world)
    client = world.web(world.staff["prescriber"])
    url = f"/screening/{screening.pk}/sign/"
    refused = client.post(url, {"version": 1, "reason": "Reviewed by phone with the GP."})
    assert refused.status_code == 422 and b"password or signing PIN" in refused.content
    wrong = client.post(
        url, {"version": 1, "reason": "Reviewed with the GP.", "signing_secret": "nope"}
    )
    assert wrong.status_code == 422
    assert AuditEntry.objects.filter(
        action="login_failed", object_type="signing", actor_username="a.prescriber"
    ).exists()
    assert Screening.objects.get(pk=screening.pk).signed_by_id is None
    done = client.post(
        url,
        {"version": 1, "reason": "Reviewed by phone with the GP.", "signing_secret": TEST_PASSWORD},
    )
    assert done.status_code == 302
    assert Screening.objects.get(pk=screening.pk).signed_by == world.staff["prescriber"]


def test_the_api_signs_only_with_the_reauth_header(world):
    screening = _screening(world)
    client = world.api(world.staff["prescriber"])
    url = f"/api/v1/screenings/{screening.pk}/sign"
    body = {"version": 1, "reason": "Reviewed by phone with the GP."}
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["code"] == "reauth_required"
    wrong = client.post(
        url, body, content_type="application/json", headers={"X-KetaCare-Reauth": "nope"}
    )
    assert wrong.status_code in (400, 422) and wrong.json()["code"] == "reauth_failed"
    done = client.post(
        url, body, content_type="application/json", headers={"X-KetaCare-Reauth": TEST_PASSWORD}
    )
    assert done.status_code == 200, done.content


def test_a_signing_pin_signs_on_the_page(world):
    signing_pin_set(actor=_actor(world), password=TEST_PASSWORD, pin="4071")
    screening = _screening(world)
    response = world.web(world.staff["prescriber"]).post(
        f"/screening/{screening.pk}/sign/",
        {"version": 1, "reason": "Reviewed by phone with the GP.", "signing_secret": "4071"},
    )
    assert response.status_code == 302


def test_the_signing_pin_page_sets_a_pin_with_the_password(world):
    client = world.web(world.staff["nurse"])
    assert client.get("/account/signing-pin/").status_code == 200
    wrong = client.post("/account/signing-pin/", {"password": "nope", "pin": "4071"})
    assert wrong.status_code == 422
    done = client.post("/account/signing-pin/", {"password": TEST_PASSWORD, "pin": "4071"})
    assert done.status_code == 302
    assert SigningPin.objects.get(user=world.staff["nurse"]).pin_hash


def test_co_signing_a_screening_needs_re_authentication(world):
    from ketacare.screening.services import screening_cosign

    screening = ScreeningFactory(
        patient=world.patient_a,
        run_by=world.staff["nurse"],
        status="ineligible",
        signed_by=world.staff["prescriber"],
    )
    with pytest.raises(Refused) as refused:
        screening_cosign(actor=_actor(world), screening=screening)
    assert refused.value.code == "reauth_required"
