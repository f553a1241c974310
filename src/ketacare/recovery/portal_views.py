"""The patient's relapse-prevention plan and use calendar in the portal: their journal link
opens them; they read and edit them on a phone. Guarded like every portal page (rate limits,
token, plain refusals)."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ketacare.errors import KetaCareError
from ketacare.followup import portal
from ketacare.followup.portal_views import portal_page
from ketacare.kernel.clinic_time import clinic_today
from ketacare.outcomes.models import PortalLink, PortalLinkPurpose
from ketacare.recovery.forms import PlanForm, UseDayForm
from ketacare.recovery.models import RecoveryPlanVersion, UseDay
from ketacare.recovery.services.plan import PLAN_FIELDS, plan_version_write_by_patient
from ketacare.recovery.services.programme import programme_of_link, use_day_mark_by_patient
from ketacare.web.forms import refusal_to_form

PORTAL_CALENDAR_DAYS = 14  # the last two weeks fit a phone screen


@require_http_methods(["GET", "POST"])
@portal_page
def portal_plan(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    """Read and edit the plan; each save is a new version the therapist reviews."""
    if link.purpose != PortalLinkPurpose.JOURNAL:
        return redirect("portal_home", token=token)
    address = getattr(request, "portal_address", None)
    current = (
        RecoveryPlanVersion.objects.filter(clinic_id=link.clinic_id, patient_id=link.patient_id)
        .order_by("-number")
        .first()
    )
    number = current.number if current else 0
    initial = {f: getattr(current, f) for f in PLAN_FIELDS} if current else {}
    form = PlanForm(initial={**initial, "based_on": number})
    status, saved = 200, request.GET.get("saved") == "1"
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan_version_write_by_patient(
                    link=link,
                    fields={f: data[f] for f in PLAN_FIELDS},
                    based_on=data["based_on"],
                    client_address=address,
                )
                return redirect(f"{request.path}?saved=1")
            except KetaCareError as refusal:
                status = refusal_to_form(form, refusal)
        else:
            status = 422
    else:
        portal.portal_read_audit(
            link=link,
            object_type="recovery_plan",
            object_id=current.pk if current else "",
            client_address=address,
        )
    return render(
        request,
        "recovery/portal_plan.html",
        {
            "link": link,
            "token": token,
            "clinic": link.clinic,
            "form": form,
            "current": current,
            "saved": saved,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def portal_calendar(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    """The patient's own use calendar: the last two weeks as they and the clinic marked them,
    and a form to mark a day used (with how much) or not."""
    if link.purpose != PortalLinkPurpose.JOURNAL:
        return redirect("portal_home", token=token)
    address = getattr(request, "portal_address", None)
    context = {"link": link, "token": token, "clinic": link.clinic}
    try:
        programme = programme_of_link(link)
    except KetaCareError:  # no programme: say so plainly
        return render(request, "recovery/portal_calendar.html", {**context, "days": None})
    today = clinic_today(link.clinic)
    form = UseDayForm(initial={"day": today, "used": "0"})
    status, saved = 200, request.GET.get("saved") == "1"
    if request.method == "POST":
        form = UseDayForm(request.POST)
        if form.is_valid():
            try:
                use_day_mark_by_patient(link=link, client_address=address, **form.cleaned_data)
                return redirect(f"{request.path}?saved=1")
            except KetaCareError as refusal:
                status = refusal_to_form(form, refusal)
        else:
            status = 422
    first = max(programme.started_on, today - timedelta(days=PORTAL_CALENDAR_DAYS - 1))
    marks: dict[object, UseDay] = {}
    for row in UseDay.objects.filter(
        clinic_id=link.clinic_id, programme=programme, day__gte=first, day__lte=today
    ).order_by("day", "recorded_at", "id"):
        marks[row.day] = row  # the latest mark of a day wins
    days = [
        {"day": today - timedelta(days=i), "mark": marks.get(today - timedelta(days=i))}
        for i in range((today - first).days + 1)
    ]
    if request.method == "GET":
        portal.portal_read_audit(
            link=link, object_type="use_calendar", object_id=programme.pk, client_address=address
        )
    return render(
        request,
        "recovery/portal_calendar.html",
        {**context, "form": form, "days": days, "saved": saved},
        status=status,
    )
