"""Staff pages of measurement-based care: safety alerts, the alert banner and the home panel."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.clinical.instruments import get_instrument
from ketacare.errors import KetaCareError
from ketacare.outcomes import selectors, services
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


# --- safety alerts ----------------------------------------------------------------------------


@clinic_view(Permission.ALERT_VIEW)
def alert_banner(request: HttpRequest) -> HttpResponse:
    """The banner every staff page polls: how many safety alerts nobody has acknowledged.

    When the counts change it tells the page (htmx event `alerts-changed`), so the start
    page's alert list reloads then, and not (with an audited read) on every poll.
    """
    actor = actor_of(request)
    counts = selectors.alert_counts(actor=actor)
    key = f"outcomes.alert_counts.{actor.clinic_id}"
    current = [counts.open, counts.acknowledged]
    previous = request.session.get(key)
    request.session[key] = current
    response = render_page(request, "outcomes/_alert_banner.html", {"counts": counts})
    if previous is not None and previous != current:
        response["HX-Trigger"] = "alerts-changed"
    return response


@clinic_view(Permission.ALERT_VIEW)
def alert_list(request: HttpRequest) -> HttpResponse:
    """Open and acknowledged safety alerts, most urgent first (resolved ones on request)."""
    include_resolved = request.GET.get("all") == "1"
    alerts = selectors.alert_page(
        actor=actor_of(request), include_resolved=include_resolved, after=request.GET.get("after")
    )
    return render_page(
        request,
        "outcomes/alert_list.html",
        {"alerts": alerts, "page": alerts, "include_resolved": include_resolved},
    )


@clinic_view(Permission.ALERT_VIEW)
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    """One alert: its evidence, who has it, its history; acknowledge, assign, resolve."""
    actor = actor_of(request)
    alert = selectors.alert_get_for_actor(actor=actor, alert_id=alert_id)
    context = {
        "alert": alert,
        "history": selectors.alert_history(actor=actor, alert=alert),
        "assignees": selectors.alert_assignees(actor=actor)
        if actor.can(Permission.ALERT_MANAGE)
        else [],
        "instrument": get_instrument(alert.response.instrument_id) if alert.response else None,
    }
    return render_page(request, "outcomes/alert_detail.html", context)


def _after_alert_change(request: HttpRequest, alert_id: int) -> HttpResponse:
    if request.POST.get("from") == "home":
        if getattr(request, "htmx", False):
            return home_panel(request)
        return redirect("home")
    return redirect("alert_detail", alert_id=alert_id)


@clinic_view(Permission.ALERT_MANAGE)
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Acknowledge an open alert (it leaves every banner); the acknowledger owns it."""
    try:
        services.alert_acknowledge(
            actor=actor_of(request),
            alert_id=alert_id,
            version=_int(request.POST.get("version")) or 0,
        )
        messages.success(request, "Alert acknowledged. It is assigned to you until reassigned.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return _after_alert_change(request, alert_id)


@clinic_view(Permission.ALERT_MANAGE)
@require_POST
def alert_assign(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Give the alert to a colleague who may manage alerts."""
    try:
        services.alert_assign(
            actor=actor_of(request),
            alert_id=alert_id,
            version=_int(request.POST.get("version")) or 0,
            assignee_id=_int(request.POST.get("assignee_id")) or 0,
        )
        messages.success(request, "Alert assigned.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return _after_alert_change(request, alert_id)


@clinic_view(Permission.ALERT_MANAGE)
@require_POST
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Resolve an acknowledged alert with a note of what was done."""
    try:
        services.alert_resolve(
            actor=actor_of(request),
            alert_id=alert_id,
            version=_int(request.POST.get("version")) or 0,
            note=request.POST.get("note", "")[:4000],
        )
        messages.success(request, "Alert resolved.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return _after_alert_change(request, alert_id)


@clinic_view(Permission.ALERT_VIEW)
def home_panel(request: HttpRequest) -> HttpResponse:
    """The start page's safety panel: open alerts to acknowledge, and what is waiting."""
    actor = actor_of(request)
    alerts = selectors.alert_list(actor=actor)
    context = {
        "open_alerts": [a for a in alerts if a.status == "open"],
        "acknowledged_alerts": [a for a in alerts if a.status == "acknowledged"],
    }
    return render_page(request, "outcomes/_home_panel.html", context)


@clinic_view(Permission.CHART_EDIT)
@require_POST
def scale_response_entered_in_error(request: HttpRequest, response_id: int) -> HttpResponse:
    """Mark a questionnaire response entered in error, with the reason; it stays listed."""
    try:
        response = services.scale_response_enter_in_error(
            actor=actor_of(request), response_id=response_id, reason=request.POST.get("reason", "")
        )
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
        return redirect("home")
    messages.success(request, "Response marked entered in error; it no longer counts.")
    return redirect("patient_outcomes", patient_id=response.patient_id)
