"""Who is acting, in which clinic, with which role: the one place permissions are checked."""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from django.conf import settings
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


@lru_cache(maxsize=4)
def _networks(spec: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(item, strict=False) for item in spec)


def _trusted(address: IPv4Address | IPv6Address) -> bool:
    networks = _networks(tuple(settings.KETACARE_TRUSTED_PROXIES))
    return any(address in network for network in networks)


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The caller's address: the peer, or the forwarded client when the peer is a trusted proxy.

    `X-Forwarded-For` is read only when the connection came from `KETACARE_TRUSTED_PROXIES`,
    right to left, skipping the trusted proxies themselves: the first other address is the
    client. Anything a client wrote into the header before that is ignored.
    """
    peer = request.META.get("REMOTE_ADDR")
    peer_address = _address(peer or "")
    if peer_address is None or not _trusted(peer_address):
        return peer
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        hop_address = _address(hop)
        if hop_address is None:
            break
        client = str(hop_address)
        if not _trusted(hop_address):
            break
    return client


def axes_client_address(request: HttpRequest) -> str:
    """The address django-axes locks on: the same client address the audit records."""
    return client_address(request) or ""


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
