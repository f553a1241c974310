"""Bearer-token authentication for the API, and the permission guard for endpoints."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja.security import HttpBearer

from ketacare.accounts.access import Actor, client_address
from ketacare.accounts.models import ApiToken, Membership, hash_token
from ketacare.accounts.permissions import Permission
from ketacare.accounts.reauth import SIGNING_SECRET_HEADER, reauthenticate
from ketacare.accounts.roles import Role
from ketacare.accounts.second_factor import has_second_factor, role_needs_second_factor
from ketacare.accounts.tenancy import ensure_path_objects_in_clinic
from ketacare.kernel import clock

# Writing last_used_at on every call would turn every read into a write; once a minute is enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)

F = TypeVar("F", bound=Callable[..., Any])


class BearerToken(HttpBearer):
    """Resolve `Authorization: Bearer <token>` to an Actor; anything else answers 401.

    A token of a user whose role needs a second factor and who has no authenticator (never
    enrolled, or reset by an admin) answers 401 too.

    Given a permission, it also refuses (403) an actor whose role lacks it. Authentication
    runs before ninja parses the request, so a refused caller learns nothing from validation.
    """

    def __init__(self, permission: Permission | None = None) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        api_token = (
            ApiToken.objects.select_related("user", "clinic")
            .filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        membership = Membership.objects.filter(
            user=api_token.user, clinic=api_token.clinic, is_active=True
        ).first()
        if membership is None:
            return None
        if role_needs_second_factor(
            role=membership.role, clinic=api_token.clinic
        ) and not has_second_factor(api_token.user):
            # The token skips sign-in; it is worth no more than the sign-in it stands for.
            return None
        now = clock.wall_now()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        actor = Actor(
            user=api_token.user,
            clinic=api_token.clinic,
            role=Role(membership.role),
            client_address=client_address(request),
            channel="api",
        )
        secret = request.headers.get(SIGNING_SECRET_HEADER)
        if secret is not None:  # signing: the caller proves again who they are
            actor = reauthenticate(actor=actor, secret=secret)
        # Known before the checks, so a refusal is audited on the acting clinic's trail.
        request.actor = actor  # type: ignore[attr-defined]
        if self.permission is not None:
            actor.require(self.permission)
        if request.resolver_match is not None:
            ensure_path_objects_in_clinic(request.resolver_match.kwargs, actor.clinic_id)
        return actor


def api_actor(request: HttpRequest) -> Actor:
    """The permitted Actor that `BearerToken` attached to an API request."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def operation(
    register: Callable[..., Callable[[F], F]], path: str, permission: Permission, **options: Any
) -> Callable[[F], F]:
    """Register an API operation guarded by one permission, published as `x-permission`.

    Usage: `@operation(router.get, "/patients", Permission.PATIENT_LIST, response=...)`;
    inside the view, `request.auth` is the permitted Actor.
    """

    def decorate(view: F) -> F:
        extra = {**options.pop("openapi_extra", {}), "x-permission": permission.value}
        view.required_permission = permission  # type: ignore[attr-defined]
        return register(path, auth=BearerToken(permission), openapi_extra=extra, **options)(view)

    return decorate
