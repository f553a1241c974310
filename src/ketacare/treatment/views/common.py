"""What every session page shares: clinic time and the session URL."""

from collections.abc import Callable

from django.http import HttpResponse
from django.urls import reverse

from ketacare.treatment.models import SessionStatus

S = SessionStatus
View = Callable[..., HttpResponse]


def _page(session_id: int) -> str:
    return reverse("session_detail", kwargs={"session_id": session_id})
