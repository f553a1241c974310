"""Who is acting, in which clinic, with which role: the one place permissions are checked."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from ketacare.accounts.models import Clinic, Membership, User
from ketacare.accounts.permissions import Permission, role_may
from ketacare.accounts.roles import Role


@dataclass(frozen=True)
class Actor:
    """A user acting in one clinic with one role, from one address."""

    user: User
    clinic: Clinic
    role: Role
    client_address: str | None = None
    channel: str = "web"
    # Set only by `accounts.reauth.reauthenticate`, for this request: the user proved again
    # who they are (password or signing PIN) just before signing.
    reauthenticated_at: datetime | None = None

    @property
    def clinic_id(self) -> int:
        return self.clinic.pk

    def can(self, permission: Permission) -> bool:
        """Whether the permission table allows this actor's role to do this."""
        return role_may(self.role, permission)

    def require(self, permission: Permission) -> None:
        """Refuse with 403 unless the permission table allows it."""
        if not self.can(permission):
            raise PermissionDenied(
                f"The {Role(self.role).label.lower()} role may not do '{permission.value}'."
            )


def client_address(request: HttpRequest) -> str | None:
    """The caller's address as the server saw it (the proxy sets REMOTE_ADDR in production)."""
    return request.META.get("REMOTE_ADDR")


def memberships_for(user: User) -> list[Membership]:
    """The user's active memberships, clinic loaded, in a stable order."""
    return list(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("clinic")
        .order_by("clinic__name")
    )


def actor_for(
    *, user: User, clinic_id: int | None, address: str | None, channel: str
) -> Actor | None:
    """The actor for a user in a clinic (their first clinic when none is chosen)."""
    memberships = memberships_for(user)
    if not memberships:
        return None
    chosen = next((m for m in memberships if m.clinic_id == clinic_id), memberships[0])
    return Actor(
        user=user,
        clinic=chosen.clinic,
        role=Role(chosen.role),
        client_address=address,
        channel=channel,
    )
