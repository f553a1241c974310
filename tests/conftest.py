"""Shared fixtures. Django is imported lazily so the pure-core tests run without it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

# One session-wide browser for every folder's journeys (two would fight over the event loop).
pytest_plugins = ["tests.browser"]

if TYPE_CHECKING:
    from django.test import Client

    from ketacare.accounts.models import Clinic, User
    from ketacare.patients.models import Patient


@dataclass
class World:
    """Two clinics: A with one user per role and a patient, B with the same (the outsiders)."""

    clinic_a: Clinic
    clinic_b: Clinic
    staff: dict[str, User]
    outsiders: dict[str, User]
    patient_a: Patient
    patient_b: Patient
    tokens: dict[int, str] = field(default_factory=dict)

    def token_for(self, user: User) -> str:
        """The user's API token; a user whose role needs a second factor is enrolled first,
        as a token is issued only to them (tests/accounts/test_api_tokens.py covers the rest)."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from ketacare.accounts.second_factor import has_second_factor, mfa_required
        from ketacare.accounts.services import token_create

        if user.pk not in self.tokens:
            if mfa_required(user) and not has_second_factor(user):
                TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
            _, raw = token_create(user=user)
            self.tokens[user.pk] = raw
        return self.tokens[user.pk]

    def api(self, user: User | None) -> Client:
        """A test client that sends the user's bearer token (or none)."""
        from django.test import Client

        headers: dict[str, Any] = {}
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token_for(user)}"
        return Client(headers=headers)

    def web(self, user: User) -> Client:
        """A test client signed in as the user."""
        from django.test import Client

        from ketacare.home.mfa import PASSED_SESSION_KEY

        client = Client()
        client.force_login(user)
        # Pages are tested past sign-in; the second factor has its own tests.
        session = client.session
        session[PASSED_SESSION_KEY] = user.pk
        session["signed_in_at"] = session["last_activity"] = int(time.time())
        session.save()
        return client


@pytest.fixture(autouse=True)
def session_clock() -> Iterator[Any]:
    """The one clinic clock (every app reads it), back to real time before and after each test."""
    from ketacare.kernel import clock

    clock.reset()
    yield clock
    clock.reset()


@pytest.fixture(autouse=True)
def _own_checkpoint_file(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[None]:
    """Each test appends chain checkpoints to a file of its own: its database is thrown away
    after it, and a checkpoint left behind would no longer match the next test's chains."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield  # the pure core: no Django, no chains
        return
    from django.conf import settings

    previous = settings.KETACARE_CHECKPOINT_FILE
    settings.KETACARE_CHECKPOINT_FILE = tmp_path / "chain-checkpoints.jsonl"
    yield
    settings.KETACARE_CHECKPOINT_FILE = previous


@pytest.fixture
def world(db: None) -> World:
    from ketacare.accounts.roles import Role
    from tests.factories import ClinicFactory, PatientFactory, member

    clinic_a = ClinicFactory(slug="clinic-a", name="Clinic A")
    clinic_b = ClinicFactory(slug="clinic-b", name="Clinic B")
    staff = {role.value: member(clinic_a, role, f"a.{role.value}") for role in Role}
    outsiders = {role.value: member(clinic_b, role, f"b.{role.value}") for role in Role}
    return World(
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        staff=staff,
        outsiders=outsiders,
        patient_a=PatientFactory(clinic=clinic_a),
        patient_b=PatientFactory(clinic=clinic_b),
    )
