"""The patient portal's pages: no account, a link is the key; phone-first and accessible.

Every request is rate-limited by client address and by link before anything else happens;
an unknown, expired or used link gets a plain page that offers nothing else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ketacare.accounts.access import client_address
from ketacare.clinical.aftercare import Aftercare, discharge_instructions
from ketacare.clinical.instruments import Instrument
from ketacare.errors import KetaCareError
from ketacare.followup import portal
from ketacare.followup.portal import LinkState
from ketacare.kernel import clock
from ketacare.outcomes.models import (
    AssignmentStatus,
    PortalLink,
    PortalLinkPurpose,
    QuestionnaireAssignment,
)
from ketacare.treatment.selectors import recent_discharge_of

PortalView = Callable[..., HttpResponse]

CLOSED_PAGES = {
    LinkState.UNKNOWN: (404, "This link does not work", "Check that the whole link was copied."),
    LinkState.EXPIRED: (410, "This link has expired", "Your clinic can send you a new one."),
    LinkState.USED: (410, "This link has already been used", "There is nothing left to answer."),
}


# The portal shows the last treatment's aftercare for two days (the night's sleep and the next day).
AFTERCARE_SHOWN_FOR = timedelta(days=2)


def _headers(response: HttpResponse) -> HttpResponse:
    # The token is in the address: never cache the page, never send it to another site as a
    # referrer ("same-origin": "no-referrer" would make browsers send Origin: null on posts).
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _plain(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return _headers(
        render(
            request,
            "followup/portal/closed.html",
            {"title": title, "message": message},
            status=status,
        )
    )


def _too_many(request: HttpRequest) -> HttpResponse:
    return _plain(
        request,
        429,
        "Too many attempts",
        "Please wait a quarter of an hour, then open your link again.",
    )


def portal_page(view: PortalView) -> PortalView:
    """Rate-limit, resolve the token, and refuse plainly; the view gets a valid link."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        now = clock.now()
        address = client_address(request) or "unknown"
        if not portal.rate_limit_hit(key=f"addr:{address}", limit=portal.ADDRESS_LIMIT, now=now):
            return _too_many(request)
        failures = f"fail:{address}"
        if not portal.rate_limit_hit(
            key=failures, limit=portal.ADDRESS_FAILURE_LIMIT, now=now, count=False
        ):
            return _too_many(request)
        state, link = portal.portal_link_resolve(token=token, now=now)
        if state != LinkState.VALID or link is None:
            portal.rate_limit_hit(key=failures, limit=portal.ADDRESS_FAILURE_LIMIT, now=now)
            status, title, message = CLOSED_PAGES[state]
            return _plain(request, status, title, message)
        if not portal.rate_limit_hit(
            key=f"token:{link.token_hash}", limit=portal.TOKEN_LIMIT, now=now
        ):
            return _too_many(request)
        request.portal_address = address  # type: ignore[attr-defined]
        return _headers(view(request, link, token, *args, **kwargs))

    return guarded


def _context(link: PortalLink, token: str, **extra: Any) -> dict[str, Any]:
    return {"link": link, "token": token, "clinic": link.clinic, **extra}


def _address(request: HttpRequest) -> str | None:
    return getattr(request, "portal_address", None)


@require_http_methods(["GET"])
@portal_page
def portal_home(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    """The questionnaires this link opens, with progress; or the journal."""
    if link.purpose == PortalLinkPurpose.JOURNAL:
        return redirect("portal_journal", token=token)
    if link.purpose == PortalLinkPurpose.INTAKE:
        return redirect("portal_intake", token=token)
    if link.purpose in (PortalLinkPurpose.HOME_DOSES, PortalLinkPurpose.SITTER):
        return redirect("athome_portal", token=token)  # the at-home programme's own pages
    # A questionnaire cancelled since the link was sent (its session was cancelled) is not shown.
    assignments = [
        a for a in portal.link_assignments(link) if a.status != AssignmentStatus.CANCELLED
    ]
    rows = []
    for assignment in assignments:
        instrument = portal.portal_instrument(assignment)
        answered = len(assignment.draft_answers)
        rows.append(
            {
                "assignment": assignment,
                "instrument": instrument,
                "answered": answered,
                "items": len(instrument.items),
                "done": assignment.status != AssignmentStatus.PENDING,
            }
        )
    portal.portal_read_audit(
        link=link,
        object_type="portal_link",
        object_id=link.pk,
        client_address=_address(request),
    )
    done = sum(1 for r in rows if r["done"])
    next_row = next((r for r in rows if not r["done"]), None)
    return render(
        request,
        "followup/portal/home.html",
        _context(
            link,
            token,
            rows=rows,
            done=done,
            total=len(rows),
            next_row=next_row,
            aftercare=_aftercare(link),
        ),
    )


def _aftercare(link: PortalLink) -> Aftercare | None:
    """After a treatment in the last two days, its discharge instructions by route."""
    session = recent_discharge_of(patient=link.patient, within=AFTERCARE_SHOWN_FOR)
    return discharge_instructions(session.route) if session is not None else None


def _pending(link: PortalLink, assignment: int) -> QuestionnaireAssignment | None:
    found = portal.link_assignment(link, assignment)
    return found if found.status == AssignmentStatus.PENDING else None


@require_http_methods(["GET"])
@portal_page
def portal_resume(
    request: HttpRequest, link: PortalLink, token: str, assignment: int
) -> HttpResponse:
    """Carry on where the patient left off: the first unanswered question, else the review."""
    found = _pending(link, assignment)
    if found is None:
        return redirect("portal_home", token=token)
    portal.portal_instrument(found)
    number = portal.next_unanswered_item(found)
    if number is None:
        return redirect("portal_review", token=token, assignment=found.pk)
    return redirect("portal_item", token=token, assignment=found.pk, item=number)


def _item_context(
    link: PortalLink,
    token: str,
    found: QuestionnaireAssignment,
    instrument: Instrument,
    number: int,
    **extra: Any,
) -> dict[str, Any]:
    item = instrument.items[number - 1]
    answered = len(found.draft_answers)
    return _context(
        link,
        token,
        assignment=found,
        instrument=instrument,
        item=item,
        number=number,
        count=len(instrument.items),
        answered=answered,
        saved=found.draft_answers.get(item.id),
        previous=number - 1 if number > 1 else None,
        **extra,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def portal_item(
    request: HttpRequest, link: PortalLink, token: str, assignment: int, item: int
) -> HttpResponse:
    """One question; answering it saves it at once and moves on."""
    found = _pending(link, assignment)
    if found is None:
        return redirect("portal_home", token=token)
    instrument = portal.portal_instrument(found)
    if not 1 <= item <= len(instrument.items):
        return redirect("portal_resume", token=token, assignment=found.pk)
    error = ""
    if request.method == "POST":
        raw = request.POST.get("answer", "")
        try:
            value = int(raw)
        except ValueError:
            error = "Choose one answer, then press Next."
        else:
            try:
                found = portal.portal_answer_save(
                    link=link,
                    assignment_pk=found.pk,
                    item_number=item,
                    value=value,
                    now=clock.now(),
                    client_address=_address(request),
                )
            except KetaCareError as refusal:
                error = refusal.message
            else:
                if item < len(instrument.items):
                    return redirect("portal_item", token=token, assignment=found.pk, item=item + 1)
                return redirect("portal_review", token=token, assignment=found.pk)
    else:
        portal.portal_read_audit(
            link=link,
            object_type="questionnaire_assignment",
            object_id=found.pk,
            client_address=_address(request),
        )
    return render(
        request,
        "followup/portal/item.html",
        _item_context(link, token, found, instrument, item, error=error),
        status=422 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def portal_review(
    request: HttpRequest, link: PortalLink, token: str, assignment: int
) -> HttpResponse:
    """Check the answers, change any, and send them."""
    found = _pending(link, assignment)
    if found is None:
        return redirect("portal_home", token=token)
    instrument = portal.portal_instrument(found)
    missing = portal.next_unanswered_item(found)
    if request.method == "POST" and missing is None:
        try:
            recorded = portal.portal_submit(
                link=link,
                assignment_pk=found.pk,
                now=clock.now(),
                client_address=_address(request),
            )
        except KetaCareError:
            return redirect("portal_home", token=token)
        link.refresh_from_db(fields=["used_at"])
        remaining = [
            a for a in portal.link_assignments(link) if a.status == AssignmentStatus.PENDING
        ]
        if recorded.alerts:
            return render(
                request,
                "followup/portal/support.html",
                _context(link, token, remaining=remaining),
            )
        if remaining:
            return redirect("portal_home", token=token)
        return render(request, "followup/portal/thanks.html", _context(link, token))
    if missing is not None and request.method == "POST":
        return redirect("portal_item", token=token, assignment=found.pk, item=missing)
    portal.portal_read_audit(
        link=link,
        object_type="questionnaire_assignment",
        object_id=found.pk,
        client_address=_address(request),
    )
    labels = {item.id: {o.value: o.label for o in item.options} for item in instrument.items}
    answers = [
        {
            "item": item,
            "answer": labels[item.id].get(found.draft_answers.get(item.id, -1)),
        }
        for item in instrument.items
    ]
    return render(
        request,
        "followup/portal/review.html",
        _context(
            link, token, assignment=found, instrument=instrument, answers=answers, missing=missing
        ),
    )


@require_http_methods(["GET", "POST"])
@portal_page
def portal_journal(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    """Write a journal entry for the therapist (between sessions)."""
    if link.purpose != PortalLinkPurpose.JOURNAL:
        return redirect("portal_home", token=token)
    error = ""
    saved = False
    body = ""
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            portal.journal_entry_write(
                link=link, body=body, now=clock.now(), client_address=_address(request)
            )
        except KetaCareError as refusal:
            error = refusal.message
        else:
            saved = True
            body = ""
    return render(
        request,
        "followup/portal/journal.html",
        _context(
            link, token, error=error, saved=saved, body=body, max_chars=portal.JOURNAL_MAX_CHARS
        ),
        status=422 if error else 200,
    )
