"""API tokens and the second factor: a token stands in for a sign-in, so it needs what sign-in
needs — an enrolled authenticator for admins, prescribers and the roles a clinic names."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts.models import ApiToken
from ketacare.accounts.roles import Role
from ketacare.accounts.services import AccountError, token_create
from tests.factories import ClinicFactory, member

pytestmark = pytest.mark.django_db


def _enrol(user):
    TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)


def _get_patients(raw):
    return Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/patients")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PRESCRIBER])
def test_a_token_is_refused_to_an_admin_or_prescriber_who_never_enrolled(world, role):
    # given an admin or prescriber who has never set up an authenticator
    user = member(world.clinic_a, role, f"a.new.{role}")
    # when a token is asked for
    with pytest.raises(AccountError) as refused:
        token_create(user=user)
    # then it is refused and none is stored
    assert refused.value.code == "second_factor_not_enrolled"
    assert not ApiToken.objects.filter(user=user).exists()


def test_a_token_is_issued_once_the_prescriber_has_enrolled(world):
    user = member(world.clinic_a, Role.PRESCRIBER, "a.enrolled")
    _enrol(user)
    _, raw = token_create(user=user)
    assert _get_patients(raw).status_code == 200


def test_a_nurse_needs_no_authenticator_for_a_token_unless_the_clinic_asks(world):
    # given a nurse of a clinic that asks nothing more of nurses
    nurse = member(world.clinic_a, Role.NURSE, "a.nurse.token")
    _, raw = token_create(user=nurse)
    assert _get_patients(raw).status_code == 200
    # when the clinic starts to require a second factor of nurses
    world.clinic_a.mfa_roles = [Role.NURSE.value]
    world.clinic_a.save()
    # then her standing token stops working, and a new one is refused until she enrols
    assert _get_patients(raw).status_code == 401
    with pytest.raises(AccountError) as refused:
        token_create(user=nurse)
    assert refused.value.code == "second_factor_not_enrolled"
    _enrol(nurse)
    assert _get_patients(raw).status_code == 200


def test_a_token_of_a_prescriber_without_an_authenticator_answers_401(world):
    # given a token stored for a prescriber who has no authenticator (issued before tokens
    # needed one, or her device removed since)
    user = member(world.clinic_a, Role.PRESCRIBER, "a.legacy")
    _enrol(user)
    _, raw = token_create(user=user)
    TOTPDevice.objects.filter(user=user).delete()
    # then a call with it is refused as unauthenticated
    response = _get_patients(raw)
    assert response.status_code == 401


def test_an_admin_reset_of_the_second_factor_stops_the_members_token(world):
    # given a prescriber with an authenticator and a working token
    user = member(world.clinic_a, Role.PRESCRIBER, "a.reset")
    _enrol(user)
    _, raw = token_create(user=user)
    assert _get_patients(raw).status_code == 200
    # when an admin resets her second factor
    membership = user.memberships.get(clinic=world.clinic_a)
    admin = world.web(world.staff["admin"])
    assert admin.post(f"/staff/{membership.pk}/mfa-reset/").status_code == 302
    # then the token answers 401 until she enrols again
    assert _get_patients(raw).status_code == 401
    _enrol(user)
    assert _get_patients(raw).status_code == 200


def test_the_fhir_interface_refuses_the_token_of_a_prescriber_without_an_authenticator(world):
    user = member(world.clinic_a, Role.PRESCRIBER, "a.fhir")
    _enrol(user)
    _, raw = token_create(user=user)
    TOTPDevice.objects.filter(user=user).delete()
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(
        f"/fhir/r4/Patient/{world.patient_a.pk}"
    )
    assert response.status_code == 401


def test_the_token_command_refuses_a_prescriber_who_never_enrolled(world):
    user = member(world.clinic_a, Role.PRESCRIBER, "a.cli")
    with pytest.raises(CommandError, match="must enrol an authenticator"):
        call_command("token", "create", user.username)
    with pytest.raises(CommandError, match="must enrol an authenticator"):
        call_command("fhir", "token", "create", user.username, "--scope", "user/*.read")


def test_a_token_for_a_clinic_the_user_is_not_in_is_refused(world):
    other = ClinicFactory(slug="elsewhere", name="Elsewhere")
    with pytest.raises(AccountError) as refused:
        token_create(user=world.staff["nurse"], clinic=other)
    assert refused.value.code == "no_membership"
