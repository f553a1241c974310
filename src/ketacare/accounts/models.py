"""Clinics are tenants; users act in a clinic through a membership with one role."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from ketacare.accounts.roles import Role


class Clinic(models.Model):
    """A clinic: the tenant every patient-data row belongs to."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    crisis_resources = models.TextField(
        blank=True,
        default="If you are in crisis, call or text 988 (Suicide & Crisis Lifeline, US) "
        "or your local emergency number.",
        help_text="Shown to patients whose answers raise a safety alert.",
    )
    # Admins and prescribers always sign in with a second factor; these roles must too.
    mfa_roles = models.JSONField(
        default=list,
        blank=True,
        help_text="Roles besides admin and prescriber that must use a second factor here.",
    )
    # Numbers a patient can tap on a phone (tel: links): the clinic, and the crisis line.
    phone = models.CharField(max_length=32, blank=True, help_text="The clinic's phone number.")
    crisis_phone = models.CharField(
        max_length=32,
        default="988",
        help_text="The crisis line patients can call or text (988 in the US).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_href(self) -> str:
        """The clinic's phone as a tel: address (digits and a leading +)."""
        return tel_href(self.phone)

    @property
    def crisis_phone_href(self) -> str:
        """The crisis line as a tel: address."""
        return tel_href(self.crisis_phone)


def tel_href(number: str) -> str:
    """A tel: address for a typed number: '(555) 010-4477' → 'tel:5550104477'."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"tel:{'+' if number.strip().startswith('+') else ''}{digits}" if digits else ""


class User(AbstractUser):
    """A member of staff who signs in; what they may do depends on their membership."""

    def display_name(self) -> str:
        """The name shown in the interface and in signed records."""
        full = self.get_full_name()
        return full or self.username


class Membership(models.Model):
    """A user's one role in one clinic."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="one_membership_per_clinic"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_is_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} at {self.clinic}"


TOKEN_PREFIX = "kc_"  # noqa: S105 - a public prefix, not a secret


def hash_token(raw_token: str) -> str:
    """SHA-256 of a token: tokens are 256-bit random, so a slow hash adds nothing."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


def new_raw_token() -> str:
    """A fresh API token with a recognisable prefix (so secret scanners can find leaks)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A bearer token for the API, acting as one user in one clinic. Only its hash is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(
        max_length=12, help_text="The first characters, to tell tokens apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key_hint}… ({self.user})"


class SigningPin(models.Model):
    """A user's signing PIN (hashed) and their run of wrong signing secrets."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="signing_pin"
    )
    pin_hash = models.CharField(max_length=200, blank=True)
    set_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"signing PIN of {self.user_id}"
