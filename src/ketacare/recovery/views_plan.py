"""Relapse-prevention plan pages for staff: the plan, a new version, the review, the PDF."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.recovery import selectors, services
from ketacare.recovery.forms import PlanForm, PlanReviewForm
from ketacare.recovery.pdf import plan_pdf
from ketacare.recovery.services.common import today_of
from ketacare.recovery.services.plan import PLAN_FIELDS
from ketacare.recovery.views import _patient, _read, attempt
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


def _plan_page(
    request: HttpRequest,
    patient_id: int,
    status: int = 200,
    plan_form: PlanForm | None = None,
    review_form: PlanReviewForm | None = None,
) -> HttpResponse:
    actor = actor_of(request)
    patient = _patient(request, patient_id, Permission.RECOVERY_VIEW)
    state = selectors.plan_state(patient=patient, today=today_of(actor))
    _read(actor, "recovery_plan", patient, number=state.current.number if state.current else 0)
    current = state.current
    initial = {f: getattr(current, f) for f in PLAN_FIELDS} if current else {}
    number = current.number if current else 0
    return render_page(
        request,
        "recovery/plan.html",
        {
            "patient": patient,
            "state": state,
            "plan_form": plan_form or PlanForm(initial={**initial, "based_on": number}),
            "review_form": review_form or PlanReviewForm(initial={"version_number": number}),
        },
        status=status,
    )


@clinic_view(Permission.RECOVERY_VIEW)
def plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The current plan, its versions and reviews; write a new version or review it."""
    return _plan_page(request, patient_id)


@clinic_view(Permission.RECOVERY_PLAN_WRITE)
@require_POST
def plan_write(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Save a new version of the plan written with the patient."""
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, patient_id, 422, plan_form=form)
    data = form.cleaned_data
    _, status = attempt(
        form,
        lambda: services.plan_version_write(
            actor=actor_of(request),
            patient_id=patient_id,
            fields={f: data[f] for f in PLAN_FIELDS},
            based_on=data["based_on"],
        ),
    )
    if status != 200:
        return _plan_page(request, patient_id, status, plan_form=form)
    return redirect("recovery_plan", patient_id=patient_id)


@clinic_view(Permission.RECOVERY_PLAN_REVIEW)
@require_POST
def plan_review(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The therapist's review of the current version."""
    form = PlanReviewForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, patient_id, 422, review_form=form)
    data = form.cleaned_data
    _, status = attempt(
        form,
        lambda: services.plan_review_record(
            actor=actor_of(request),
            patient_id=patient_id,
            version_number=data["version_number"],
            note=data["note"],
        ),
    )
    if status != 200:
        return _plan_page(request, patient_id, status, review_form=form)
    return redirect("recovery_plan", patient_id=patient_id)


@clinic_view(Permission.RECOVERY_VIEW)
def plan_print(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The current version as a PDF to print or hand to the patient."""
    actor = actor_of(request)
    patient = _patient(request, patient_id, Permission.RECOVERY_VIEW)
    state = selectors.plan_state(patient=patient, today=today_of(actor))
    if state.current is None:
        return redirect("recovery_plan", patient_id=patient_id)
    _read(actor, "recovery_plan_pdf", patient, number=state.current.number)
    response = HttpResponse(plan_pdf(patient, state.current), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="relapse-prevention-plan.pdf"'
    response["Cache-Control"] = "no-store"
    return response
