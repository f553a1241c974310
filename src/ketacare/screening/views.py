"""Screening pages: a patient's screenings, run one, read the result, sign and co-sign."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.clinical.eligibility import FACT_NAMES
from ketacare.clinical.errors import ClinicalError
from ketacare.clinical.protocols import load_protocols
from ketacare.errors import Conflict, Refused
from ketacare.kernel.bounds import BoundedForm
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.screening import selectors, services
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


def protocol_choices() -> list[tuple[str, str]]:
    """The packaged protocols, as (id, title) for a select; none chosen until someone chooses."""
    return [("", "— choose the protocol —")] + [
        (p.id, f"{p.title} ({p.route})") for p in load_protocols().values()
    ]


class RunForm(BoundedForm):
    """Which protocol to screen for."""

    protocol_id = forms.ChoiceField(label="Protocol", choices=protocol_choices)


class SignForm(BoundedForm):
    """A prescriber's signature, with the version read and the reason where one is needed."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class CosignForm(BoundedForm):
    """A second prescriber's co-signature."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


@clinic_view(Permission.CHART_VIEW)
@in_clinic_time
def patient_screenings(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's screenings, newest first, and the form to run one."""
    patient, views = selectors.screenings_of_patient(actor=actor_of(request), patient_id=patient_id)
    return render_page(
        request,
        "screening/patient.html",
        {"patient": patient, "views": views, "form": RunForm()},
    )


@clinic_view(Permission.SCREENING_RUN)
@require_POST
def screening_run(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Run the eligibility engine on the chart for the chosen protocol."""
    actor = actor_of(request)
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a protocol to screen for.")
        return redirect("screening_patient", patient_id=patient_id)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.SCREENING_RUN, audit=False
    )
    try:
        screening = services.screening_run(
            actor=actor, patient=patient, protocol_id=form.cleaned_data["protocol_id"]
        )
    except ClinicalError as error:
        messages.error(request, str(error))
        return redirect("screening_patient", patient_id=patient_id)
    return redirect("screening_detail", screening_id=screening.pk)


def _detail(
    request: HttpRequest,
    screening_id: int,
    *,
    sign_form: SignForm | None = None,
    cosign_form: CosignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    view = selectors.screening_view_for_actor(actor=actor_of(request), screening_id=screening_id)
    screening = view.screening
    by_severity = {
        severity: [rule for rule in view.fired if rule["severity"] == severity]
        for severity in ("exclude", "caution", "info")
    }
    return render_page(
        request,
        "screening/detail.html",
        {
            "view": view,
            "screening": screening,
            "patient": screening.patient,
            "sign_form": sign_form or SignForm(initial={"version": screening.version}),
            "cosign_form": cosign_form or CosignForm(initial={"version": screening.version}),
            "fired_groups": list(by_severity.values()),
            "facts_seen": [
                (name, screening.facts.get(name), name in view.out_of_date)
                for name in FACT_NAMES
                if name in screening.facts_used
            ],
        },
        status=status,
    )


@clinic_view(Permission.CHART_VIEW)
@in_clinic_time
def screening_detail(request: HttpRequest, screening_id: int) -> HttpResponse:
    """The result a prescriber reads before signing: every fired rule, missing facts, signatures."""
    return _detail(request, screening_id)


@clinic_view(Permission.SCREENING_SIGN)
@require_POST
@in_clinic_time
def screening_sign(request: HttpRequest, screening_id: int) -> HttpResponse:
    """Sign the screening (with a reason unless eligible)."""
    actor = actor_of(request)
    screening = selectors.screening_get_for_actor(
        actor=actor, screening_id=screening_id, permission=Permission.SCREENING_SIGN
    )
    form = SignForm(request.POST)
    if not form.is_valid():
        return _detail(request, screening_id, sign_form=form, status=422)
    try:
        services.screening_sign(
            actor=actor,
            screening=screening,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except (Conflict, Refused) as refusal:
        # The form shows `reason`; a stale version or anything else is shown above it.
        status = refusal_to_form(form, refusal)
        return _detail(request, screening_id, sign_form=form, status=status)
    messages.success(request, "Screening signed.")
    return redirect("screening_detail", screening_id=screening_id)


@clinic_view(Permission.SCREENING_SIGN)
@require_POST
@in_clinic_time
def screening_cosign(request: HttpRequest, screening_id: int) -> HttpResponse:
    """Co-sign an ineligible screening as the second prescriber."""
    actor = actor_of(request)
    screening = selectors.screening_get_for_actor(
        actor=actor, screening_id=screening_id, permission=Permission.SCREENING_SIGN
    )
    form = CosignForm(request.POST)
    if not form.is_valid():
        return _detail(request, screening_id, cosign_form=form, status=422)
    try:
        services.screening_cosign(
            actor=actor,
            screening=screening,
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except (Conflict, Refused) as refusal:
        messages.error(request, refusal.message)
        return _detail(request, screening_id, cosign_form=form, status=refusal.status_code)
    messages.success(request, "Screening co-signed.")
    return redirect("screening_detail", screening_id=screening_id)
