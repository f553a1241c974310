"""Patient pages: list, register, view and edit demographics."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ketacare.accounts.permissions import Permission
from ketacare.errors import Conflict
from ketacare.patients import selectors, services
from ketacare.patients.forms import PatientForm
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page

PAGE_SIZE = 50


@clinic_view(Permission.PATIENT_LIST)
def patient_list(request: HttpRequest) -> HttpResponse:
    """The clinic's patients; the search box filters as you type (htmx)."""
    search = request.GET.get("q", "")[:100]
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    patients = selectors.patient_list(
        actor=actor_of(request), search=search, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    context = {
        "patients": patients[:PAGE_SIZE],
        "has_next": len(patients) > PAGE_SIZE,
        "page": page,
        "q": search,
    }
    return render_page(request, "patients/list.html", context, partial="patients/_rows.html")


@clinic_view(Permission.PATIENT_CREATE)
def patient_new(request: HttpRequest) -> HttpResponse:
    """Register a patient."""
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        patient = services.patient_create(actor=actor_of(request), **data)
        messages.success(request, f"{patient.display_name} registered as {patient.mrn}.")
        return redirect("patient_detail", patient_id=patient.pk)
    return render_page(request, "patients/form.html", {"form": form, "patient": None})


@clinic_view(Permission.PATIENT_VIEW)
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's page."""
    patient = selectors.patient_get_for_actor(actor=actor_of(request), patient_id=patient_id)
    return render_page(request, "patients/detail.html", {"patient": patient})


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
            form.add_error(None, conflict.message)
            status = 409
        else:
            messages.success(request, "Saved.")
            return redirect("patient_detail", patient_id=patient.pk)
    return render_page(
        request, "patients/form.html", {"form": form, "patient": patient}, status=status
    )
