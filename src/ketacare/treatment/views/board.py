"""The chair board page (polled by htmx), and its exceptions for each clinician's start page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketacare.accounts.permissions import Permission
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.treatment.board import board_for_clinic
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page

POLL_SECONDS = 15


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def session_board(request: HttpRequest) -> HttpResponse:
    """Today's rooms and chairs; the board refreshes itself every 15 seconds."""
    board = board_for_clinic(actor=actor_of(request))
    return render_page(
        request,
        "treatment/board.html",
        {"board": board, "poll_seconds": POLL_SECONDS},
        partial="treatment/_board.html",
    )


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def board_exceptions(request: HttpRequest) -> HttpResponse:
    """What needs this clinician now (a fragment for the start page, polled)."""
    actor = actor_of(request)
    board = board_for_clinic(actor=actor)
    return render(
        request,
        "treatment/_board_exceptions.html",
        {"board": board, "mine": board.for_role(actor.role), "poll_seconds": POLL_SECONDS},
    )
