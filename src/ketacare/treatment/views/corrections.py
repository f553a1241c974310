"""Pages: a reading or an adverse event entered in error, and an adverse event's follow-up."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.errors import KetaCareError
from ketacare.treatment import services
from ketacare.treatment.views.common import _page
from ketacare.web.access import actor_of, clinic_view


def _run(
    request: HttpRequest, session_id: int, write: Callable[[], object], done: str
) -> HttpResponse:
    try:
        write()
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, done)
    return redirect(_page(session_id))


@clinic_view(Permission.SESSION_RUN)
@require_POST
def monitoring_entry_entered_in_error(
    request: HttpRequest, session_id: int, monitoring_entry_id: int
) -> HttpResponse:
    """Mark a reading entered in error, with the reason; it stays on the timeline."""
    return _run(
        request,
        session_id,
        lambda: services.monitoring_entry_enter_in_error(
            actor=actor_of(request),
            session_id=session_id,
            monitoring_entry_id=monitoring_entry_id,
            reason=request.POST.get("reason", ""),
        ),
        "Reading marked entered in error; it no longer counts.",
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
def adverse_event_entered_in_error(
    request: HttpRequest, session_id: int, adverse_event_id: int
) -> HttpResponse:
    """Mark an adverse event entered in error, with the reason; it stays visible."""
    return _run(
        request,
        session_id,
        lambda: services.adverse_event_enter_in_error(
            actor=actor_of(request),
            session_id=session_id,
            adverse_event_id=adverse_event_id,
            reason=request.POST.get("reason", ""),
        ),
        "Adverse event marked entered in error.",
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
def medicine_given_entered_in_error(
    request: HttpRequest, session_id: int, medicine_given_id: int
) -> HttpResponse:
    """Mark a medicine given entered in error, with the reason; it stays visible."""
    return _run(
        request,
        session_id,
        lambda: services.medicine_given_enter_in_error(
            actor=actor_of(request),
            session_id=session_id,
            medicine_given_id=medicine_given_id,
            reason=request.POST.get("reason", ""),
        ),
        "Medicine given marked entered in error.",
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
def adverse_event_follow_up(
    request: HttpRequest, session_id: int, adverse_event_id: int
) -> HttpResponse:
    """Record an adverse event's outcome now and what was seen or done."""
    return _run(
        request,
        session_id,
        lambda: services.adverse_event_follow_up(
            actor=actor_of(request),
            session_id=session_id,
            adverse_event_id=adverse_event_id,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        ),
        "Follow-up recorded.",
    )
