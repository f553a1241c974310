"""Writes for clinics, users, memberships and API tokens."""

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from ketacare.accounts.models import ApiToken, Clinic, Membership, User, hash_token, new_raw_token
from ketacare.accounts.roles import Role
from ketacare.accounts.second_factor import has_second_factor, role_needs_second_factor
from ketacare.kernel import clock


class AccountError(ValueError):
    """A refused account operation, with a message for the operator and a code for callers."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def clinic_create(*, slug: str, name: str) -> Clinic:
    """Create a clinic; refuses a slug that is taken."""
    if Clinic.objects.filter(slug=slug).exists():
        raise AccountError(f"A clinic with slug '{slug}' already exists.")
    return Clinic.objects.create(slug=slug, name=name)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    clinic: Clinic,
    role: Role | str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    validate: bool = True,
) -> User:
    """Create a user with one membership; the password is validated unless told otherwise."""
    if role not in Role.values:
        raise AccountError(f"Unknown role '{role}'; choose one of {', '.join(Role.values)}.")
    if User.objects.filter(username=username).exists():
        raise AccountError(f"A user named '{username}' already exists.")
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.save()
    Membership.objects.create(user=user, clinic=clinic, role=role)
    return user


def token_create(
    *, user: User, clinic: Clinic | None = None, name: str = ""
) -> tuple[ApiToken, str]:
    """Issue an API token for the user in one of their clinics; returns the raw token once.

    A token skips sign-in, so a user whose role there needs a second factor must have enrolled
    an authenticator first (refused with `second_factor_not_enrolled`).
    """
    memberships = Membership.objects.filter(user=user, is_active=True)
    if clinic is not None:
        memberships = memberships.filter(clinic=clinic)
    membership = memberships.select_related("clinic").order_by("clinic__name").first()
    if membership is None:
        raise AccountError(
            f"User '{user.username}' has no active membership in that clinic.", code="no_membership"
        )
    if role_needs_second_factor(
        role=membership.role, clinic=membership.clinic
    ) and not has_second_factor(user):
        raise AccountError(
            f"User '{user.username}' must enrol an authenticator (sign in once) before an API "
            f"token is issued: a {membership.get_role_display().lower()} in "
            f"{membership.clinic.name} signs in with a second factor.",
            code="second_factor_not_enrolled",
        )
    raw = new_raw_token()
    token = ApiToken.objects.create(
        user=user,
        clinic=membership.clinic,
        name=name,
        key_hash=hash_token(raw),
        key_hint=raw[:8],
    )
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    """Revoke a token; later calls with it answer 401."""
    if token.revoked_at is None:
        token.revoked_at = clock.wall_now()
        token.save(update_fields=["revoked_at"])
