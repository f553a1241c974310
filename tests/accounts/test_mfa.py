"""The second factor: required for admins and prescribers, per clinic for others; audited."""

import base64
import re
import time

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.audit.models import AuditEntry
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _password_sign_in(username):
    client = Client()
    response = client.post("/login/", {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def _code(device, ahead=0):
    return f"{totp(device.bin_key, step=30, t0=0, digits=6, drift=ahead):06d}"


def _enrol(client, username):
    page = client.get("/mfa/enrol/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user__username=username, confirmed=False)
    secret = re.search(rb'data-testid="totp-secret">([A-Z2-7 ]+)<', page.content).group(1)
    secret = secret.replace(b" ", b"")
    assert base64.b32decode(secret + b"=" * (-len(secret) % 8)) == device.bin_key
    done = client.post("/mfa/enrol/", {"code": _code(device), "next": "/"})
    assert done.status_code == 200
    return device, re.findall(rb"<li><code>([a-z0-9]+)</code></li>", done.content)


@pytest.mark.parametrize("role", ["admin", "prescriber"])
def test_admins_and_prescribers_cannot_reach_a_page_before_enrolling(world, role):
    client = _password_sign_in(f"a.{role}")
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/enrol/")


def test_a_nurse_needs_no_second_factor_unless_the_clinic_asks(world):
    client = _password_sign_in("a.nurse")
    assert client.get("/patients/").status_code == 200
    world.clinic_a.mfa_roles = ["nurse"]
    world.clinic_a.save()
    again = _password_sign_in("a.nurse")
    assert again.get("/patients/")["Location"].startswith("/mfa/enrol/")


def test_enrolment_confirms_the_authenticator_issues_ten_recovery_codes_and_is_audited(world):
    client = _password_sign_in("a.prescriber")
    device, codes = _enrol(client, "a.prescriber")
    device.refresh_from_db()
    assert device.confirmed and len(codes) == 10
    assert client.get("/patients/").status_code == 200
    entry = AuditEntry.objects.filter(action="mfa", actor_username="a.prescriber").get()
    assert entry.detail["event"] == "enrolled"


def test_a_wrong_enrolment_code_is_refused_and_audited(world):
    client = _password_sign_in("a.admin")
    client.get("/mfa/enrol/")
    response = client.post("/mfa/enrol/", {"code": "000000"})
    assert response.status_code == 422
    assert not TOTPDevice.objects.filter(user__username="a.admin", confirmed=True).exists()
    assert AuditEntry.objects.filter(action="login_failed", actor_username="a.admin").exists()


def test_next_sign_in_asks_for_the_code_and_accepts_a_recovery_code_once(world):
    # given an enrolled prescriber
    device, codes = _enrol(_password_sign_in("a.prescriber"), "a.prescriber")
    # when they sign in again
    client = _password_sign_in("a.prescriber")
    assert client.get("/patients/")["Location"].startswith("/mfa/verify/")
    # then a wrong code is refused and audited
    assert client.post("/mfa/verify/", {"code": "123456"}).status_code == 422
    failed = AuditEntry.objects.filter(action="login_failed", actor_username="a.prescriber")
    assert failed.filter(detail__event="mfa_failed").exists()
    # and, after the throttle's one-second pause, a recovery code works once
    time.sleep(1.1)
    code = codes[0].decode()
    assert client.post("/mfa/verify/", {"code": code, "next": "/patients/"}).status_code == 302
    assert client.get("/patients/").status_code == 200
    assert not StaticToken.objects.filter(token=code).exists()
    other = _password_sign_in("a.prescriber")
    assert other.post("/mfa/verify/", {"code": code}).status_code == 422


def test_an_authenticator_code_passes_verification(world):
    device, _ = _enrol(_password_sign_in("a.admin"), "a.admin")
    client = _password_sign_in("a.admin")
    device.refresh_from_db()
    response = client.post("/mfa/verify/", {"code": _code(device, ahead=1), "next": "/audit/"})
    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200


def test_an_admin_resets_a_members_second_factor_and_it_is_audited(world):
    _enrol(_password_sign_in("a.prescriber"), "a.prescriber")
    membership = world.staff["prescriber"].memberships.get()
    admin = world.web(world.staff["admin"])
    assert admin.post(f"/staff/{membership.pk}/mfa-reset/").status_code == 302
    assert not TOTPDevice.objects.filter(user__username="a.prescriber").exists()
    entry = AuditEntry.objects.filter(action="mfa", actor_username="a.admin").get()
    assert entry.detail == {"event": "reset", "user": "a.prescriber"}
    assert _password_sign_in("a.prescriber").get("/")["Location"].startswith("/mfa/enrol/")


def test_an_admin_of_another_clinic_cannot_reset(world):
    membership = world.staff["prescriber"].memberships.get()
    outsider = world.web(world.outsiders["admin"])
    assert outsider.post(f"/staff/{membership.pk}/mfa-reset/").status_code == 404


def test_the_clinic_chooses_which_other_roles_need_a_second_factor(world):
    admin = world.web(world.staff["admin"])
    assert admin.post("/staff/", {"roles": ["nurse", "therapist"]}).status_code == 302
    world.clinic_a.refresh_from_db()
    assert world.clinic_a.mfa_roles == ["nurse", "therapist"]
    assert admin.get("/staff/").status_code == 200


def test_a_failed_password_sign_in_is_written_to_the_clinics_trail(world):
    Client().post("/login/", {"username": "a.nurse", "password": "wrong-password-1"})
    entry = AuditEntry.objects.filter(action="login_failed").get()
    assert (entry.actor_username, entry.clinic_id) == ("a.nurse", world.clinic_a.pk)
    admin = world.web(world.staff["admin"])
    assert b"a.nurse" in admin.get("/audit/?action=login_failed").content


def test_a_lockout_answers_429_and_is_written_to_the_trail(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "a.nurse", "password": "wrong-password-1"})
    response = client.post("/login/", {"username": "a.nurse", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert AuditEntry.objects.filter(action="locked_out", actor_username="a.nurse").exists()
