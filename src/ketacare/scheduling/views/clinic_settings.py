"""Clinic schedule settings: opening days and hours, chair time per route, chairs, the feed URL."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.clinical import ClinicalError
from ketacare.errors import KetaCareError
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.scheduling import selectors, services
from ketacare.scheduling.forms import ChairForm, ScheduleSettingsForm
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


def _settings_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    actor = actor_of(request)
    schedule = selectors.clinic_schedule_for(clinic=actor.clinic)
    minimums = selectors.route_minimum_minutes()
    initial = {
        "open_weekdays": schedule.open_weekdays,
        "opens_at": schedule.opens_at,
        "closes_at": schedule.closes_at,
        "slot_minutes": schedule.slot_minutes,
        "version": schedule.version,
        **{f"minutes_{r}": m for r, m in (schedule.session_minutes or {}).items()},
    }
    context = {
        "schedule": schedule,
        "settings_form": ScheduleSettingsForm(initial=initial, minimums=minimums),
        "chair_form": ChairForm(),
        "chairs": selectors.chairs_of_clinic(actor=actor, include_inactive=True),
        "feed": selectors.live_calendar_feed(actor=actor),
        "feed_url": "",
    }
    context.update(extra)
    return context


@clinic_view(Permission.CLINIC_MANAGE)
@in_clinic_time
def schedule_settings(request: HttpRequest) -> HttpResponse:
    """Opening days and hours, chair time per route, chairs, and the staff calendar feed."""
    actor = actor_of(request)
    status = 200
    extra: dict[str, Any] = {}
    if request.method == "POST":
        form = ScheduleSettingsForm(request.POST, minimums=selectors.route_minimum_minutes())
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.clinic_schedule_update(
                    actor=actor,
                    version=data["version"],
                    open_weekdays=data["open_weekdays"],
                    opens_at=data["opens_at"],
                    closes_at=data["closes_at"],
                    slot_minutes=data["slot_minutes"],
                    session_minutes=form.session_minutes(),
                )
            except (KetaCareError, ClinicalError) as refusal:
                status = refusal_to_form(form, refusal)
            else:
                messages.success(request, "Schedule settings saved.")
                return redirect("schedule_settings")
        extra["settings_form"] = form
    return render_page(
        request, "scheduling/settings.html", _settings_context(request, **extra), status=status
    )


@clinic_view(Permission.CLINIC_MANAGE)
@require_POST
@in_clinic_time
def chair_new(request: HttpRequest) -> HttpResponse:
    """Add a chair."""
    form = ChairForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.chair_create(actor=actor_of(request), **form.cleaned_data)
        except KetaCareError as refusal:
            status = refusal_to_form(form, refusal)
        else:
            messages.success(request, "Chair added.")
            return redirect("schedule_settings")
    return render_page(
        request,
        "scheduling/settings.html",
        _settings_context(request, chair_form=form),
        status=status,
    )


@clinic_view(Permission.CLINIC_MANAGE)
@require_POST
@in_clinic_time
def chair_active(request: HttpRequest, chair_id: int) -> HttpResponse:
    """Put a chair out of use, or back into use."""
    actor = actor_of(request)
    chair = selectors.chair_get_for_actor(
        actor=actor, chair_id=chair_id, permission=Permission.CLINIC_MANAGE
    )
    try:
        services.chair_set_active(
            actor=actor, chair=chair, is_active=request.POST.get("is_active") == "1"
        )
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"{chair} updated.")
    return redirect("schedule_settings")


@clinic_view(Permission.CLINIC_MANAGE)
@require_POST
@in_clinic_time
def feed_rotate(request: HttpRequest) -> HttpResponse:
    """Issue a new secret feed URL (the old one stops working); it is shown once."""
    token = services.calendar_feed_rotate(actor=actor_of(request))
    url = request.build_absolute_uri(reverse("schedule_feed")) + f"?token={token}"
    return render_page(
        request, "scheduling/settings.html", _settings_context(request, feed_url=url)
    )
