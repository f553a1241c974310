"""Part 2 pages: the substance-use programme (calendar, outcomes, withdrawal checks) and the
consents, disclosures and accounting. Only roles the permission table allows see them; every
page carries the notice against redisclosure."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.clinical import misuse as core
from ketacare.clinical import recovery as rules
from ketacare.recovery import selectors, services
from ketacare.recovery.forms import (
    ConsentForm,
    DisclosureForm,
    ProgrammeForm,
    UseDayForm,
    WithdrawalForm,
)
from ketacare.recovery.services.common import today_of
from ketacare.recovery.views import _patient, _read, attempt
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


def _programme_page(
    request: HttpRequest, patient_id: int, status: int = 200, **forms_: forms.Form
) -> HttpResponse:
    actor = actor_of(request)
    patient = _patient(request, patient_id, Permission.PART2_VIEW)
    today = today_of(actor)
    programme = selectors.programme_of(patient=patient)
    view = selectors.programme_view(programme=programme, today=today) if programme else None
    _read(actor, "sud_programme", patient, part2=True)
    context: dict[str, Any] = {
        "patient": patient,
        "view": view,
        "notice": rules.REDISCLOSURE_NOTICE,
        "withdrawal_at": core.load_misuse_rules().withdrawal_alert_at_least,
        "withdrawal_citation": core.load_misuse_rules().withdrawal_citation.render(),
        "start_form": forms_.get("start_form") or ProgrammeForm(initial={"started_on": today}),
        "day_form": forms_.get("day_form") or UseDayForm(initial={"day": today, "used": "0"}),
        "withdrawal_form": forms_.get("withdrawal_form") or WithdrawalForm(),
    }
    return render_page(request, "recovery/programme.html", context, status=status)


@clinic_view(Permission.PART2_VIEW)
def programme(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's substance-use programme: use calendar, outcomes, withdrawal checks."""
    return _programme_page(request, patient_id)


def _post(
    request: HttpRequest, patient_id: int, form: forms.Form, name: str, call: Any
) -> HttpResponse:
    if form.is_valid():
        _, status = attempt(
            form, lambda: call(actor=actor_of(request), patient_id=patient_id, **form.cleaned_data)
        )
        if status == 200:
            return redirect("recovery_programme", patient_id=patient_id)
    else:
        status = 422
    return _programme_page(request, patient_id, status, **{name: form})


@clinic_view(Permission.PART2_VIEW)
@require_POST
def programme_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Start the programme."""
    return _post(
        request, patient_id, ProgrammeForm(request.POST), "start_form", services.programme_start
    )


@clinic_view(Permission.PART2_VIEW)
@require_POST
def use_day(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Mark one day on the use calendar."""
    return _post(request, patient_id, UseDayForm(request.POST), "day_form", services.use_day_mark)


@clinic_view(Permission.PART2_VIEW)
@require_POST
def withdrawal(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record the withdrawal checklist."""
    form = WithdrawalForm(request.POST)
    if form.is_valid():
        answers = [bool(form.cleaned_data[name]) for name in form.fields]
        _, status = attempt(
            form,
            lambda: services.withdrawal_check_record(
                actor=actor_of(request), patient_id=patient_id, answers=answers
            ),
        )
        if status == 200:
            return redirect("recovery_programme", patient_id=patient_id)
    else:
        status = 422
    return _programme_page(request, patient_id, status, withdrawal_form=form)


def _part2_page(
    request: HttpRequest, patient_id: int, status: int = 200, **forms_: Any
) -> HttpResponse:
    actor = actor_of(request)
    patient = _patient(request, patient_id, Permission.PART2_VIEW)
    _read(actor, "part2_consents", patient, part2=True)
    context = {
        "patient": patient,
        "consents": selectors.consents_of(patient=patient),
        "disclosures": selectors.disclosures_of(patient=patient),
        "notice": rules.REDISCLOSURE_NOTICE,
        "consent_form": forms_.get("consent_form")
        or ConsentForm(initial={"signed_on": today_of(actor)}),
        "disclosure_form": forms_.get("disclosure_form") or DisclosureForm(),
        "disclosed": forms_.get("disclosed"),
    }
    return render_page(request, "recovery/part2.html", context, status=status)


@clinic_view(Permission.PART2_VIEW)
def part2(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Consents on file, the disclosure form, and the accounting of disclosures."""
    return _part2_page(request, patient_id)


@clinic_view(Permission.PART2_CONSENT)
@require_POST
def consent_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record a consent the patient signed."""
    form = ConsentForm(request.POST)
    if form.is_valid():
        _, status = attempt(
            form,
            lambda: services.part2_consent_record(
                actor=actor_of(request), patient_id=patient_id, **form.cleaned_data
            ),
        )
        if status == 200:
            return redirect("recovery_part2", patient_id=patient_id)
    else:
        status = 422
    return _part2_page(request, patient_id, status, consent_form=form)


@clinic_view(Permission.PART2_CONSENT)
@require_POST
def consent_revoke(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record that the patient revoked a consent."""
    form = forms.Form(request.POST)
    consent_id = request.POST.get("consent", "")
    _, status = attempt(
        form,
        lambda: services.part2_consent_revoke(
            actor=actor_of(request),
            patient_id=patient_id,
            consent_id=int(consent_id) if consent_id.isdigit() else 0,
        ),
    )
    if status != 200:
        return _part2_page(
            request,
            patient_id,
            status,
            consent_form=ConsentForm(),
            revoke_error=form.non_field_errors(),
        )
    return redirect("recovery_part2", patient_id=patient_id)


@clinic_view(Permission.PART2_DISCLOSE)
@require_POST
def disclose(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Disclose the Part 2 records under a consent: the document, with its notice."""
    form = DisclosureForm(request.POST)
    if not form.is_valid():
        return _part2_page(request, patient_id, 422, disclosure_form=form)
    row, status = attempt(
        form,
        lambda: services.part2_disclose(
            actor=actor_of(request), patient_id=patient_id, channel="page", **form.cleaned_data
        ),
    )
    if status != 200:
        return _part2_page(request, patient_id, status, disclosure_form=form)
    patient = _patient(request, patient_id, Permission.PART2_VIEW)
    return render_page(
        request,
        "recovery/disclosure.html",
        {
            "patient": patient,
            "disclosure": row,
            "consent_scope": rules.consent_scope(
                rules.ConsentOnFile(
                    frozenset(row.consent.purposes),
                    row.consent.recipient,
                    row.consent.signed_on,
                    row.consent.expires_on,
                    row.consent.revoked_on,
                )
            )
            if row.consent
            else "",
            "records": selectors.part2_records_of(patient=patient),
        },
    )


@clinic_view(Permission.PART2_VIEW)
def accounting(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The accounting of disclosures, printable, to give the patient."""
    actor = actor_of(request)
    patient = _patient(request, patient_id, Permission.PART2_VIEW)
    _read(actor, "part2_accounting", patient, part2=True)
    return render_page(
        request,
        "recovery/accounting.html",
        {"patient": patient, "disclosures": selectors.disclosures_of(patient=patient)},
    )
