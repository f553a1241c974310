"""The one runner of POST steps: call the service, redirect, or show the refusal on the page."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketacare.accounts.access import Actor
from ketacare.clinical.errors import ClinicalError
from ketacare.errors import KetaCareError
from ketacare.treatment import selectors
from ketacare.treatment.selectors import SessionRecord
from ketacare.treatment.views.common import _page
from ketacare.treatment.views.session_page import _context
from ketacare.web.access import actor_of
from ketacare.web.forms import refusal_to_form

Run = Callable[[Actor, Any], Any]


def _step(
    request: HttpRequest,
    session_id: int,
    *,
    slot: str,
    make_form: Callable[[SessionRecord | None], forms.Form],
    run: Run,
    done: str,
    needs_record: bool = False,
) -> HttpResponse:
    """Parse a step's form, run its service, and go back to the page (or show why not)."""
    actor = actor_of(request)
    record = selectors.session_record(actor=actor, session_id=session_id) if needs_record else None
    form = make_form(record)
    status = 422
    if form.is_valid():
        try:
            run(actor, form)
        except (KetaCareError, ClinicalError) as error:
            status = refusal_to_form(form, error)
        except PermissionDenied:
            raise
        else:
            messages.success(request, done)
            return redirect(_page(session_id))
    record = selectors.session_record(actor=actor, session_id=session_id)
    context = _context(record, actor, {slot: form})
    context["failed_slot"] = slot
    return render(request, "treatment/session.html", context, status=status)


def _keyed(form: forms.Form) -> dict[str, Any]:
    data = form.cleaned_data
    keyed = {"idempotency_key": data["idempotency_key"]}
    if "version" in data:
        keyed["version"] = data["version"]
    return keyed
