"""The patient's relapse-prevention plan in the portal: their journal link opens it; they read
and edit it on a phone. Guarded like every portal page (rate limits, token, plain refusals)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ketacare.errors import KetaCareError
from ketacare.followup import portal
from ketacare.followup.portal_views import portal_page
from ketacare.outcomes.models import PortalLink, PortalLinkPurpose
from ketacare.recovery.forms import PlanForm
from ketacare.recovery.models import RecoveryPlanVersion
from ketacare.recovery.services.plan import PLAN_FIELDS, plan_version_write_by_patient
from ketacare.web.forms import refusal_to_form


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
