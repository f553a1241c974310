"""What every session page shares: clinic time and the session URL."""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from ketacare.scheduling.selectors import clinic_zone
from ketacare.treatment.models import SessionStatus
from ketacare.web.access import actor_of

S = SessionStatus
View = Callable[..., HttpResponse]


def in_clinic_time(view: View) -> View:
    """Show and read times in the clinic's own time zone."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(clinic_zone(actor_of(request).clinic)):
            return view(request, *args, **kwargs)

    return wrapped


def _page(session_id: int) -> str:
    return reverse("session_detail", kwargs={"session_id": session_id})
