"""Patient pages: list, register, the chart, the intake, and the chart's history."""

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.errors import Conflict, Refused
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.patients import intake_forms, selectors, services
from ketacare.patients.codes import (
    CHECK_KINDS,
    antidepressant_suggestions,
    check_lines,
    icd10_suggestions,
    medicine_suggestions,
)
from ketacare.patients.duplicates import PossibleDuplicate, patient_duplicates_find
from ketacare.patients.duplicates import patient_merge as merge_charts
from ketacare.patients.facts import pregnancy_possible
from ketacare.patients.forms import (
    MeasurementForm,
    PatientForm,
    PatientMergeForm,
    PatientRegisterForm,
    SectionForm,
    VoidForm,
    section_form,
)
from ketacare.patients.models import ChartSectionKey
from ketacare.patients.panels import chart_panels_for
from ketacare.patients.sections import INTAKE_STEP_KEYS, INTAKE_STEPS, SECTIONS
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page

PAGE_SIZE = 50
IMPLAUSIBLE = "implausible_measurement"  # the refusal code of a value the core challenged


@clinic_view(Permission.PATIENT_LIST)
def patient_list(request: HttpRequest) -> HttpResponse:
    """The clinic's patients; the search box filters as you type (htmx)."""
    search = request.GET.get("q", "")[:100]
    page = selectors.patient_page(
        actor=actor_of(request), search=search, after=request.GET.get("after"), size=PAGE_SIZE
    )
    context = {"patients": page, "page": page, "q": search}
    return render_page(request, "patients/list.html", context, partial="patients/_rows.html")


@clinic_view(Permission.PATIENT_CREATE)
def patient_new(request: HttpRequest) -> HttpResponse:
    """Register a patient; a possible duplicate is named and must be confirmed as a new person."""
    actor = actor_of(request)
    form = PatientRegisterForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
    duplicates: list[PossibleDuplicate] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            patient = services.patient_create(actor=actor, **data)
        except Conflict as conflict:
            if conflict.code != "possible_duplicate":
                raise
            duplicates = patient_duplicates_find(
                actor=actor,
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
                phone=data.get("phone", ""),
                email=data.get("email", ""),
            )
            status = 409
        else:
            messages.success(request, f"{patient.display_name} registered as {patient.mrn}.")
            return redirect("patient_detail", patient_id=patient.pk)
    return render_page(
        request,
        "patients/form.html",
        {"form": form, "patient": None, "duplicates": duplicates},
        status=status,
    )


@clinic_view(Permission.PATIENT_MERGE)
def patient_merge(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Merge a duplicate chart (named by MRN) into this one, with a reason."""
    actor = actor_of(request)
    keep = selectors.patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.PATIENT_MERGE
    )
    form = PatientMergeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        other = (
            selectors.patients_of_clinic(actor=actor)
            .filter(mrn__iexact=form.cleaned_data["merge_mrn"].strip())
            .first()
        )
        if other is None:
            form.add_error("merge_mrn", "No chart of this clinic has this MRN.")
            status = 422
        else:
            try:
                merge_charts(
                    actor=actor,
                    keep_id=keep.pk,
                    merge_id=other.pk,
                    reason=form.cleaned_data["reason"],
                )
            except (Refused, Conflict) as refusal:
                status = refusal_to_form(form, refusal, on_field=False)
            else:
                messages.success(request, f"{other.mrn} merged into {keep.mrn}.")
                return redirect("patient_detail", patient_id=keep.pk)
    return render_page(
        request, "patients/merge.html", {"form": form, "patient": keep}, status=status
    )


@clinic_view(Permission.PATIENT_VIEW)
@in_clinic_time
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's page: demographics and contacts for everyone, the clinical chart for the team."""
    actor = actor_of(request)
    chart = selectors.chart_for_actor(actor=actor, patient_id=patient_id)
    data = {key: chart.data(key) for key in SECTIONS}
    vitals = data["baseline_vitals"]
    return render_page(
        request,
        "patients/detail.html",
        {
            "patient": chart.patient,
            "chart": chart,
            "chart_data": data,
            "checklist_sections": [
                ("psychiatric_history", SECTIONS["psychiatric_history"].label),
                ("medical_history", SECTIONS["medical_history"].label),
            ],
            "pregnancy_possible": pregnancy_possible(chart.patient.sex),
            "vitals_at": datetime.fromisoformat(vitals["measured_at"]) if vitals else None,
            "panels": chart_panels_for(actor=actor, chart=chart),
            "intake_forms": (
                intake_forms.intake_submissions_waiting(actor=actor, patient=chart.patient)
                if actor.can(Permission.CHART_VIEW)
                else []
            ),
        },
    )


@clinic_view(Permission.PATIENT_EDIT)
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Edit demographics; a stale form (someone saved first) is refused, not overwritten."""
    actor = actor_of(request)
    patient = selectors.patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.PATIENT_EDIT
    )
    form = PatientForm(request.POST or None, instance=patient, initial={"version": patient.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            services.patient_update(
                actor=actor,
                patient_id=patient.pk,
                version=form.cleaned_data.get("version") or 0,
                changes=changes,
            )
        except Conflict as conflict:
            refusal_to_form(form, conflict, on_field=False)
            status = 409
        else:
            messages.success(request, "Saved.")
            return redirect("patient_detail", patient_id=patient.pk)
    return render_page(
        request, "patients/form.html", {"form": form, "patient": patient}, status=status
    )


# --- intake -------------------------------------------------------------------------------------

StepForm = SectionForm | PatientForm | MeasurementForm


def _step_form(step: str, chart: selectors.Chart, data: Any = None) -> StepForm:
    patient = chart.patient
    if step == "demographics":
        return PatientForm(data, instance=patient, initial={"version": patient.version})
    if step == "measurements":
        return MeasurementForm(data, initial={"measured_on": selectors.clinic_today(patient)})
    return section_form(step, data=data, stored=chart.data(step))


def _save_step(request: HttpRequest, chart: selectors.Chart, step: str, form: StepForm) -> int:
    """Save one intake step through its service: 200, or 422/409 with errors on the form."""
    actor = actor_of(request)
    patient = chart.patient
    error_target: forms.BaseForm = form.main if isinstance(form, SectionForm) else form
    if not form.is_valid():
        return 422
    try:
        if isinstance(form, PatientForm):
            changes = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            services.patient_update(
                actor=actor,
                patient_id=patient.pk,
                version=form.cleaned_data.get("version") or 0,
                changes=changes,
            )
        elif isinstance(form, MeasurementForm):
            services.measurement_record(
                actor=actor,
                patient_id=patient.pk,
                measured_on=form.cleaned_data["measured_on"],
                height_cm=form.cleaned_data["height_cm"],
                weight_kg=form.cleaned_data["weight_kg"],
                confirm_implausible=form.cleaned_data.get("confirm_implausible", False),
            )
        else:
            services.chart_section_save(
                actor=actor,
                patient_id=patient.pk,
                section=step,
                version=_int(request.POST.get("version")),
                data=form.to_data(),
            )
    except Conflict as conflict:
        refusal_to_form(error_target, conflict, on_field=False)
        return 409
    except Refused as refusal:
        # a challenged value (the core's plausibility) is shown on the field it names
        challenged = refusal.code == IMPLAUSIBLE
        refusal_to_form(error_target, refusal, on_field=challenged)
        return 422
    return 200


def _int(value: str | None) -> int:
    try:
        return int(value or "0")
    except ValueError:
        return -1


def _intake_context(chart: selectors.Chart, step: str, form: StepForm) -> dict[str, Any]:
    row = chart.sections.get(step)
    position = INTAKE_STEP_KEYS.index(step)
    return {
        "patient": chart.patient,
        "chart": chart,
        "progress": chart.progress,
        "step": step,
        "step_label": dict(INTAKE_STEPS)[step],
        "step_help": SECTIONS[step].help if step in SECTIONS else "",
        "form": form,
        "section_form": form if isinstance(form, SectionForm) else None,
        "section_row": row,
        "section_version": row.version if row else 0,
        "next_step": INTAKE_STEP_KEYS[position + 1]
        if position + 1 < len(INTAKE_STEP_KEYS)
        else None,
        "previous_step": INTAKE_STEP_KEYS[position - 1] if position > 0 else None,
        "common_icd10": icd10_suggestions(),
        "medicine_names": medicine_suggestions(),
        "antidepressant_names": antidepressant_suggestions(),
        "vocabulary_steps": ("psychiatric_history", "medical_history", "medicines", "allergies"),
        "pregnancy_possible": pregnancy_possible(chart.patient.sex),
    }


@clinic_view(Permission.CHART_EDIT)
@in_clinic_time
def intake(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The intake: the chart's sections in the clinic's order, each saved as you go (htmx)."""
    actor = actor_of(request)
    chart = selectors.chart_for_actor(actor=actor, patient_id=patient_id)
    step = request.POST.get("step") or request.GET.get("step") or chart.progress.next_step
    if step not in INTAKE_STEP_KEYS:
        step = chart.progress.next_step
    status = 200
    if request.method == "POST":
        form = _step_form(step, chart, data=request.POST)
        status = _save_step(request, chart, step, form)
        if status == 200:
            label = dict(INTAKE_STEPS)[step]
            following = step if "stay" in request.POST else _following(step)
            url = (
                reverse("patient_intake", args=[patient_id]) + "?" + urlencode({"step": following})
            )
            if not getattr(request, "htmx", False):
                messages.success(request, f"{label} saved.")
                return redirect(url)
            chart = selectors.chart_for_actor(actor=actor, patient_id=patient_id)
            context = _intake_context(chart, following, _step_form(following, chart))
            context["saved"] = label
            response = render_page(
                request, "patients/intake.html", context, partial="patients/_intake_panel.html"
            )
            response["HX-Push-Url"] = url
            return response
        if getattr(request, "htmx", False):
            status = 200  # htmx swaps only successful answers; the errors must still show
    else:
        form = _step_form(step, chart)
    return render_page(
        request,
        "patients/intake.html",
        _intake_context(chart, step, form),
        partial="patients/_intake_panel.html",
        status=status,
    )


def _following(step: str) -> str:
    position = INTAKE_STEP_KEYS.index(step)
    return INTAKE_STEP_KEYS[min(position + 1, len(INTAKE_STEP_KEYS) - 1)]


@clinic_view(Permission.CHART_EDIT)
def vocabulary_check(request: HttpRequest) -> HttpResponse:
    """As you type (htmx): how the screening will read each line, with close names if it will not.

    Reads only the vocabulary, never a patient, so there is nothing to audit or scope.
    """
    kind = request.GET.get("kind", "")
    if kind not in CHECK_KINDS:
        kind = "condition"
    text = request.GET.get("text") or next(
        (str(value) for key, value in request.GET.items() if key != "kind"), ""
    )
    # the same fragment for htmx and a plain visit: it is a fragment either way
    context = {"checks": check_lines(kind, text)}
    return render_page(request, "patients/_vocabulary_check.html", context)


@clinic_view(Permission.CHART_EDIT)
@require_POST
def intake_finish(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Sign the intake off as complete (refused while a step is still to do)."""
    try:
        services.intake_complete(actor=actor_of(request), patient_id=patient_id)
    except Refused as refusal:
        messages.error(request, refusal.message)
        return redirect("patient_intake", patient_id=patient_id)
    messages.success(request, "Intake complete.")
    return redirect("patient_detail", patient_id=patient_id)


# --- contact (front desk) -----------------------------------------------------------------------


@clinic_view(Permission.PATIENT_EDIT)
def contact_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Edit the address, emergency contact and escort (front desk and clinicians)."""
    actor = actor_of(request)
    patient, row = selectors.chart_section_for_actor(
        actor=actor, patient_id=patient_id, section="contact"
    )
    form = section_form("contact", data=request.POST or None, stored=row.data if row else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.chart_section_save(
                actor=actor,
                patient_id=patient.pk,
                section="contact",
                version=_int(request.POST.get("version")),
                data=form.to_data(),
            )
        except Conflict as conflict:
            refusal_to_form(form.main, conflict, on_field=False)
            status = 409
        except Refused as refusal:
            refusal_to_form(form.main, refusal, on_field=False)
            status = 422
        else:
            messages.success(request, "Contacts saved.")
            return redirect("patient_detail", patient_id=patient.pk)
    elif request.method == "POST":
        status = 422
    return render_page(
        request,
        "patients/contact_form.html",
        {"patient": patient, "form": form.main, "version": row.version if row else 0},
        status=status,
    )


# --- history and measurements -------------------------------------------------------------------


@clinic_view(Permission.CHART_VIEW)
@in_clinic_time
def chart_history(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Every saved state of one chart section: who changed which fields, and when."""
    section = request.GET.get("section", "diagnoses")
    if section not in ChartSectionKey.values:
        section = "diagnoses"
    patient, revisions = selectors.chart_section_history(
        actor=actor_of(request), patient_id=patient_id, section=section
    )
    return render_page(
        request,
        "patients/history.html",
        {
            "patient": patient,
            "section": section,
            "section_label": ChartSectionKey(section).label,
            "sections": ChartSectionKey.choices,
            "revisions": revisions,
        },
    )


@clinic_view(Permission.CHART_EDIT)
@require_POST
def measurement_void(request: HttpRequest, measurement_id: int) -> HttpResponse:
    """Void a measurement entered in error, with the reason."""
    form = VoidForm(request.POST)
    actor = actor_of(request)
    if not form.is_valid():
        messages.error(request, "Say why the measurement is void.")
        measurement = selectors.measurement_for_actor(actor=actor, measurement_id=measurement_id)
        return redirect("patient_detail", patient_id=measurement.patient_id)
    try:
        measurement = services.measurement_void(
            actor=actor, measurement_id=measurement_id, reason=form.cleaned_data["reason"]
        )
    except (Conflict, Refused) as refusal:
        messages.error(request, refusal.message)
        measurement = selectors.measurement_for_actor(actor=actor, measurement_id=measurement_id)
    else:
        messages.success(request, "Measurement voided.")
    return redirect("patient_detail", patient_id=measurement.patient_id)


# --- intake forms from the portal ---------------------------------------------------------------


@clinic_view(Permission.CHART_VIEW)
@in_clinic_time
def intake_submission(
    request: HttpRequest, patient_id: int, intake_submission_id: int
) -> HttpResponse:
    """A form the patient sent from the portal, beside the chart: accept the parts checked into
    the chart, or decline it. Nothing the patient wrote reaches the chart before this."""
    actor = actor_of(request)
    status = 200
    if request.method == "POST":
        seen = request.POST.get("version", "")
        version = int(seen) if seen.isdigit() and len(seen) < 10 else None
        try:
            if request.POST.get("decision") == "decline":
                intake_forms.intake_submission_decline(
                    actor=actor,
                    patient_id=patient_id,
                    submission_id=intake_submission_id,
                    version=version,
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, "Form declined; nothing was added to the chart.")
            else:
                accepted = intake_forms.intake_submission_accept(
                    actor=actor,
                    patient_id=patient_id,
                    submission_id=intake_submission_id,
                    version=version,
                    parts=request.POST.getlist("parts"),
                    note=request.POST.get("note", ""),
                )
                labels = ", ".join(
                    intake_forms.PART_LABELS[p].lower() for p in accepted.accepted_sections
                )
                messages.success(request, f"Accepted into the chart: {labels}.")
            return redirect("patient_detail", patient_id=patient_id)
        except (Refused, Conflict) as refusal:
            messages.error(request, refusal.message)
            status = refusal.status_code
    review = intake_forms.intake_submission_review(
        actor=actor, patient_id=patient_id, submission_id=intake_submission_id
    )
    return render_page(
        request,
        "patients/intake_submission.html",
        {"patient": review.patient, "review": review, "submission": review.submission},
        status=status,
    )
