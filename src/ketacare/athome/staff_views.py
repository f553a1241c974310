"""Staff writes of the at-home programme from the browser: enrol, sign a prescription, record
the fill and lost units, step the dose, and hand the patient and sitter their links.

Each view checks the form's shape, asks the one service, and shows a refusal on the form (on
the field it names) or as a message on the programme page; the service decides.
"""

from __future__ import annotations

import secrets

import segno
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.athome import selectors, services
from ketacare.athome.forms import DoseStepForm, EnrolForm, LossForm, PrescriptionForm
from ketacare.athome.models import HomeProgramme
from ketacare.errors import KetaCareError
from ketacare.patients.models import Patient
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_message, refusal_to_form
from ketacare.web.htmx import render_page


def _key() -> str:
    return secrets.token_hex(16)


@clinic_view(Permission.ATHOME_ENROL)
def enrol(request: HttpRequest) -> HttpResponse:
    """Enrol a patient after the evaluation visit (from the chart: the patient is filled in)."""
    actor = actor_of(request)
    if request.method != "POST":
        today = selectors.clinic_day(actor.clinic.time_zone)
        initial: dict[str, object] = {"idempotency_key": _key(), "evaluation_on": today}
        patient_id = request.GET.get("patient", "")
        if patient_id.isdigit():
            found = Patient.objects.filter(pk=int(patient_id), clinic_id=actor.clinic_id).first()
            initial["mrn"] = found.mrn if found else ""
        return render_page(request, "athome/enrol.html", {"form": EnrolForm(initial=initial)})
    form = EnrolForm(request.POST)
    if not form.is_valid():
        return render_page(request, "athome/enrol.html", {"form": form}, status=422)
    data = form.cleaned_data
    patient = Patient.objects.filter(clinic_id=actor.clinic_id, mrn=data["mrn"].strip()).first()
    if patient is None:
        form.add_error("mrn", "No patient of this clinic has this MRN.")
        return render_page(request, "athome/enrol.html", {"form": form}, status=422)
    try:
        programme = services.programme_enrol(
            actor=actor, patient_id=patient.pk, evaluation_on=data["evaluation_on"],
            evaluation_modality=data["evaluation_modality"], sitter_name=data["sitter_name"],
            sitter_phone=data["sitter_phone"], idempotency_key=data["idempotency_key"],
        )  # fmt: skip
    except KetaCareError as refusal:
        status = refusal_to_form(form, refusal)
        return render_page(request, "athome/enrol.html", {"form": form}, status=status)
    messages.success(request, f"{patient.display_name} is enrolled in the at-home programme.")
    return redirect("athome_programme", programme_id=programme.pk)


def _programme_or_404(request: HttpRequest, programme_id: int) -> HomeProgramme:
    return selectors.programme_get_for_actor(actor=actor_of(request), programme_id=programme_id)


@clinic_view(Permission.ATHOME_PRESCRIBE)
def prescribe(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Sign a prescription with its telemedicine record (password or signing PIN again)."""
    programme = _programme_or_404(request, programme_id)
    context: dict[str, object] = {"programme": programme}
    if request.method != "POST":
        today = selectors.clinic_day(programme.clinic.time_zone)
        initial = {"idempotency_key": _key(), "issued_on": today, "pdmp_checked_on": today}
        context["form"] = PrescriptionForm(initial=initial)
        return render_page(request, "athome/prescribe.html", context)
    form = PrescriptionForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render_page(request, "athome/prescribe.html", context, status=422)
    data = form.cleaned_data
    try:
        services.prescription_issue(
            actor=actor_of(request), programme_id=programme.pk, issued_on=data["issued_on"],
            drug=data["drug"], strength_mg=data["strength_mg"], form=data["form"],
            quantity=data["quantity"], directions=data["directions"], refills=data["refills"],
            pharmacy=data["pharmacy"], visit_modality=data["visit_modality"],
            patient_state=data["patient_state"], dea_registration=data["dea_registration"],
            dea_registration_state=data["dea_registration_state"],
            in_person_evaluation_on=data["in_person_evaluation_on"],
            pdmp_checked_on=data["pdmp_checked_on"], pdmp_result=data["pdmp_result"] or None,
            pdmp_review=data["pdmp_review"], legal_basis=data["legal_basis"] or None,
            idempotency_key=data["idempotency_key"],
        )  # fmt: skip
    except KetaCareError as refusal:
        status = refusal_to_form(form, refusal)
        return render_page(request, "athome/prescribe.html", context, status=status)
    messages.success(request, "Prescription signed.")
    return redirect("athome_programme", programme_id=programme.pk)


def _back(
    request: HttpRequest, programme_id: int, done: str, error: Exception | None
) -> HttpResponse:
    if error is None:
        messages.success(request, done)
    else:
        messages.error(request, refusal_message(error))
    return redirect("athome_programme", programme_id=programme_id)


def _invalid_back(request: HttpRequest, programme_id: int, form: forms.Form) -> HttpResponse:
    """A small form on the programme page that did not validate: its first field error, named."""
    field, errors = next(iter(form.errors.items()))
    messages.error(request, f"{form.fields[field].label}: {errors[0]}")
    return redirect("athome_programme", programme_id=programme_id)


@clinic_view(Permission.ATHOME_SUPPLY)
@require_POST
def dispense(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Record the first fill of the signed prescription as at home: by the pharmacy, or from a
    container of the clinic's stock (written to the ledger)."""
    source = request.POST.get("from_container", "")
    if source and not source.isdigit():
        messages.error(request, "Choose where the fill came from.")
        return redirect("athome_programme", programme_id=programme_id)
    try:
        services.supply_dispense(
            actor=actor_of(request), programme_id=programme_id,
            idempotency_key=request.POST.get("idempotency_key", ""),
            from_container_id=int(source) if source else None,
        )  # fmt: skip
    except KetaCareError as refusal:
        return _back(request, programme_id, "", refusal)
    return _back(request, programme_id, "The fill is recorded as at home.", None)


@clinic_view(Permission.ATHOME_SUPPLY)
@require_POST
def loss(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Record units the patient reports lost or missing (a misuse signal the team reviews)."""
    form = LossForm(request.POST)
    if not form.is_valid():
        return _invalid_back(request, programme_id, form)
    try:
        services.supply_loss_report(
            actor=actor_of(request), programme_id=programme_id,
            units=form.cleaned_data["units"], note=form.cleaned_data["note"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )  # fmt: skip
    except KetaCareError as refusal:
        return _back(request, programme_id, "", refusal)
    return _back(request, programme_id, "The lost units are recorded.", None)


@clinic_view(Permission.ATHOME_PRESCRIBE)
@require_POST
def dose_step(request: HttpRequest, programme_id: int) -> HttpResponse:
    """The prescriber steps the home dose within the protocol."""
    form = DoseStepForm(request.POST)
    if not form.is_valid():
        return _invalid_back(request, programme_id, form)
    try:
        step = services.dose_step_decide(
            actor=actor_of(request), programme_id=programme_id,
            dose_mg=form.cleaned_data["dose_mg"], reason=form.cleaned_data["reason"],
        )  # fmt: skip
    except KetaCareError as refusal:
        return _back(request, programme_id, "", refusal)
    done = f"The home dose is now {step.to_mg.normalize():f} mg."
    return _back(request, programme_id, done, None)


@clinic_view(Permission.ATHOME_ENROL)
@require_POST
def links(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Issue the patient's and the sitter's links, shown once as QR codes and addresses."""
    try:
        patient_link, sitter_link = services.programme_links_issue(
            actor=actor_of(request), programme_id=programme_id
        )
    except KetaCareError as refusal:
        return _back(request, programme_id, "", refusal)
    programme = _programme_or_404(request, programme_id)
    cards = []
    for who, issued in (("The patient", patient_link), ("The sitter", sitter_link)):
        qr = segno.make(issued.url, error="m")
        svg = qr.svg_inline(scale=5, border=2, title=f"QR code of {who.lower()}'s link")
        cards.append({"who": who, "url": issued.url, "qr_svg": svg})
    context = {"programme": programme, "cards": cards, "expires_at": patient_link.link.expires_at}
    response = render_page(request, "athome/links.html", context)
    response["Cache-Control"] = "no-store"  # the page holds live tokens
    return response


@clinic_view(Permission.ATHOME_VIEW)
@require_POST
def status(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Pause, resume or end the programme, with the reason."""
    try:
        programme = services.programme_status_change(
            actor=actor_of(request), programme_id=programme_id,
            to_status=request.POST.get("to_status", ""), reason=request.POST.get("reason", ""),
            seen_status=request.POST.get("seen_status", ""),
        )  # fmt: skip
    except KetaCareError as refusal:
        return _back(request, programme_id, "", refusal)
    done = f"The programme is now {programme.get_status_display().lower()}."
    return _back(request, programme_id, done, None)
