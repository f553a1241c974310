"""The guard every staff page goes through: signed in, a member of a clinic, permitted."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.accounts.tenancy import ensure_path_objects_in_clinic

View = Callable[..., HttpResponse]


def clinic_view(permission: Permission) -> Callable[[View], View]:
    """Decorate a page view: it runs with `request.actor` allowed `permission`.

    The permission is kept on the view (`required_permission`) so the route-walking
    test can check every page against the permission table.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):
                    # A fragment request must not swap the sign-in page into a panel:
                    # send the whole window to sign in.
                    response = HttpResponse(status=200)
                    response["HX-Redirect"] = f"{reverse('login')}?next={request.get_full_path()}"
                    return response
                return redirect_to_login(request.get_full_path())
            actor: Actor | None = getattr(request, "actor", None)
            if actor is None:
                raise PermissionDenied("Your account is not a member of any clinic.")
            actor.require(permission)
            ensure_path_objects_in_clinic(kwargs, actor.clinic_id)
            return view(request, *args, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded

    return decorate


def actor_of(request: HttpRequest) -> Actor:
    """The actor a `clinic_view` has already established."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor
