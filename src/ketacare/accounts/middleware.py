"""Attach the signed-in user's active clinic and role to every web request."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ketacare.accounts.access import actor_for, client_address

ACTIVE_CLINIC_SESSION_KEY = "active_clinic_id"


class ActiveClinicMiddleware:
    """Sets `request.actor` (or None) from the session's chosen clinic."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.actor = actor_for(  # type: ignore[attr-defined]
                user=user,
                clinic_id=request.session.get(ACTIVE_CLINIC_SESSION_KEY),
                address=client_address(request),
                channel="web",
            )
        return self.get_response(request)
