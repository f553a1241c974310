"""Who must use a second factor, and whether they have one: shared by sign-in and API tokens.

Admins and prescribers always need a second factor; each clinic may require it of its other
roles too (`Clinic.mfa_roles`). Sign-in enforces it in `ketacare.home.mfa`. An API bearer token
is a standing credential that skips sign-in, so it is issued only to a user who has enrolled an
authenticator when their role needs one, and a call with it is refused (401) while that user
has none (never enrolled, or reset by an admin).
"""

from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts.models import Clinic, Membership, User
from ketacare.accounts.roles import Role

ALWAYS_REQUIRED = frozenset({Role.ADMIN, Role.PRESCRIBER})


def role_needs_second_factor(*, role: str, clinic: Clinic) -> bool:
    """Whether this role in this clinic must use a second factor."""
    return role in ALWAYS_REQUIRED or role in (clinic.mfa_roles or [])


def mfa_required(user: User) -> bool:
    """Whether any of the user's clinics requires this user's role to use a second factor."""
    memberships = Membership.objects.filter(user=user, is_active=True).select_related("clinic")
    return any(role_needs_second_factor(role=m.role, clinic=m.clinic) for m in memberships)


def confirmed_totp(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator, if they have enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    """Whether the user has a confirmed authenticator."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
