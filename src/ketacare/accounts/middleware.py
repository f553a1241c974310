"""Attach the signed-in user's active clinic and role to every web request."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from ketacare.accounts.access import actor_for, client_address
from ketacare.kernel import clock

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


LAST_ACTIVITY_SESSION_KEY = "last_activity"
SIGNED_IN_AT_SESSION_KEY = "signed_in_at"
# htmx polls (alert banner, session timeline) send this header: they are not the user acting,
# so they neither count as activity nor keep an unattended screen signed in.
BACKGROUND_HEADER = "X-KetaCare-Background"


# The last request is written to the session at most this often, so a user clicking through
# pages does not cost a session write per request. The timeout is checked against the recorded
# time, so a user is signed out between (timeout - this) and the timeout after their last
# request: at 15 minutes, between 14 min 45 s and 15 min.
ACTIVITY_RESOLUTION_SECONDS = 15


class IdleTimeoutMiddleware:
    """Sign the user out when idle too long, and at the absolute cap whatever they do.

    Idle: `KETACARE_IDLE_TIMEOUT_SECONDS` without a request of their own. Absolute: the
    session ends `SESSION_COOKIE_AGE` (12 hours) after sign-in even if used all along, since
    saving the session on every request would otherwise move the cookie's expiry forever.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(clock.wall_now().timestamp())
            last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
            signed_in_at = request.session.setdefault(SIGNED_IN_AT_SESSION_KEY, now)
            if (
                last is not None
                and now - last > settings.KETACARE_IDLE_TIMEOUT_SECONDS
                or now - signed_in_at > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
            elif not request.headers.get(BACKGROUND_HEADER) and (
                last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS
            ):
                request.session[LAST_ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)
