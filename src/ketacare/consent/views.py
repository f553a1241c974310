"""Consent pages: the clinic's documents, publishing a version, signing, the signed copy."""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.consent import selectors, services
from ketacare.consent.models import ConsentRoute
from ketacare.consent.signers import RepresentativeRelationship
from ketacare.consent.texts import TITLES, default_body
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.kernel.bounds import BoundedForm
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


class PublishForm(BoundedForm):
    """A new version of a route's consent text."""

    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 24}), label="Consent text")
    change_note = forms.CharField(
        max_length=500, required=False, label="What changed (shown to staff)"
    )
    based_on = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class SignatureForm(BoundedForm):
    """The patient's typed signature, when, and the staff witness."""

    document_version_id = forms.IntegerField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    signed_name = forms.CharField(
        max_length=200,
        label="Full name, typed by the person signing (the patient, or their representative)",
    )
    representative_name = forms.CharField(
        max_length=200,
        required=False,
        label="If a representative signs for the patient: the representative's full name",
    )
    representative_relationship = forms.ChoiceField(
        choices=[("", "— the patient signs —"), *RepresentativeRelationship.choices],
        required=False,
        label="Representative's relationship to the patient",
    )
    signed_at = forms.DateTimeField(
        label="Date and time signed",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    witnessed_by = forms.TypedChoiceField(coerce=int, label="Witnessed by")
    read_confirmed = forms.BooleanField(
        label="The patient has read the text (or had it read to them) and had their questions "
        "answered."
    )


class EnteredInErrorForm(BoundedForm):
    """Why a record was entered in error."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class WithdrawForm(BoundedForm):
    """Why the patient withdraws consent."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


@clinic_view(Permission.CONSENT_VIEW)
def documents(request: HttpRequest) -> HttpResponse:
    """The clinic's consent document for each route, with its current version."""
    rows = selectors.consent_documents_of_clinic(actor=actor_of(request))
    return render_page(request, "consent/documents.html", {"rows": rows})


@clinic_view(Permission.CONSENT_VIEW)
@in_clinic_time
def document_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    """One document: its current text and every published version."""
    document, versions = selectors.consent_document_get_for_actor(
        actor=actor_of(request), document_id=document_id
    )
    return render_page(
        request,
        "consent/document.html",
        {"document": document, "versions": versions, "latest": versions[0] if versions else None},
    )


def _publish(request: HttpRequest, route: str, initial: dict[str, Any]) -> HttpResponse:
    actor = actor_of(request)
    form = PublishForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            version = services.consent_document_publish(
                actor=actor,
                route=route,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                change_note=form.cleaned_data["change_note"],
                based_on=form.cleaned_data["based_on"],
            )
        except (Conflict, Refused) as refusal:
            refusal_to_form(form, refusal, on_field=False)
            status = refusal.status_code
        else:
            messages.success(
                request,
                f"Version {version.number} published. Patients who signed an earlier version "
                "will be asked to consent again at their next session.",
            )
            return redirect("consent_document", document_id=version.document_id)
    elif request.method == "POST":
        status = 422
    return render_page(
        request,
        "consent/publish.html",
        {"form": form, "route": route, "route_label": ConsentRoute(route).label},
        status=status,
    )


@clinic_view(Permission.CONSENT_DOCUMENT_MANAGE)
def document_new(request: HttpRequest) -> HttpResponse:
    """Write the first version of a route's document (starting from KetaCare's template)."""
    route = request.POST.get("route") or request.GET.get("route", "")
    if route not in ConsentRoute.values:
        return render_page(request, "consent/choose_route.html", {"routes": ConsentRoute.choices})
    existing = {
        row.route: row for row in selectors.consent_documents_of_clinic(actor=actor_of(request))
    }
    document = existing[route].document
    if document is not None:
        return redirect("consent_document_edit", document_id=document.pk)
    initial = {"title": TITLES[route], "body": default_body(route), "based_on": 0}
    return _publish(request, route, initial)


@clinic_view(Permission.CONSENT_DOCUMENT_MANAGE)
def document_edit(request: HttpRequest, document_id: int) -> HttpResponse:
    """Edit a document: saving publishes a new version; the old ones stay as they were."""
    document, versions = selectors.consent_document_get_for_actor(
        actor=actor_of(request), document_id=document_id
    )
    latest = versions[0] if versions else None
    initial = {
        "title": document.title,
        "body": latest.body if latest else default_body(document.route),
        "based_on": latest.number if latest else 0,
    }
    return _publish(request, document.route, initial)


@clinic_view(Permission.CONSENT_VIEW)
@in_clinic_time
def version_detail(request: HttpRequest, document_version_id: int) -> HttpResponse:
    """One published version's exact text and hash (printable)."""
    version = selectors.consent_version_get_for_actor(
        actor=actor_of(request), version_id=document_version_id
    )
    return render_page(request, "consent/version.html", {"version": version})


@clinic_view(Permission.CONSENT_VIEW)
@in_clinic_time
def patient_consents(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's consent for each route, and every signature."""
    consents = selectors.consents_of_patient(actor=actor_of(request), patient_id=patient_id)
    return render_page(
        request, "consent/patient.html", {"consents": consents, "patient": consents.patient}
    )


@clinic_view(Permission.CONSENT_RECORD)
@in_clinic_time
def signature_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record a patient's signature on the route's current text, with a staff witness."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.CONSENT_RECORD
    )
    route = request.POST.get("route") or request.GET.get("route", "")
    rows = {row.route: row for row in selectors.consent_documents_of_clinic(actor=actor)}
    if route not in rows or rows[route].latest is None:
        return render_page(
            request,
            "consent/choose_route.html",
            {"routes": [(r.route, r.label) for r in rows.values() if r.latest], "patient": patient},
        )
    latest = rows[route].latest
    assert latest is not None  # noqa: S101 - checked just above
    version = selectors.consent_version_get_for_actor(actor=actor, version_id=latest.pk)
    witnesses = selectors.witnesses_of_clinic(actor=actor)
    form = SignatureForm(
        request.POST or None,
        initial={
            "document_version_id": version.pk,
            "idempotency_key": uuid.uuid4().hex,
            "signed_at": timezone.localtime(clock.now()).replace(second=0, microsecond=0),
            "witnessed_by": actor.user.pk,
        },
    )
    form.fields["witnessed_by"].choices = [(u.pk, u.display_name()) for u in witnesses]  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            signature = services.consent_signature_record(
                actor=actor,
                patient=patient,
                document_version_id=form.cleaned_data["document_version_id"],
                signed_name=form.cleaned_data["signed_name"],
                signed_at=form.cleaned_data["signed_at"],
                witnessed_by_id=form.cleaned_data["witnessed_by"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                representative_name=form.cleaned_data["representative_name"],
                representative_relationship=form.cleaned_data["representative_relationship"],
            )
        except (Conflict, Refused) as refusal:
            refusal_to_form(form, refusal, on_field=False)
            status = refusal.status_code
        else:
            messages.success(request, "Consent recorded.")
            return redirect("consent_signature", signature_id=signature.pk)
    elif request.method == "POST":
        status = 422
    return render_page(
        request,
        "consent/sign.html",
        {"patient": patient, "version": version, "form": form, "route": route},
        status=status,
    )


@clinic_view(Permission.CONSENT_VIEW)
@in_clinic_time
def signature_detail(request: HttpRequest, signature_id: int) -> HttpResponse:
    """The signed copy, printable: the exact text signed, its hash, who signed and witnessed."""
    signature = selectors.consent_signature_get_for_actor(
        actor=actor_of(request), signature_id=signature_id
    )
    version = signature.document_version
    return render_page(
        request,
        "consent/signature.html",
        {
            "signature": signature,
            "version": version,
            "patient": signature.patient,
            "hash_matches": services.body_sha256(version.body) == signature.body_sha256,
            "withdraw_form": WithdrawForm(),
            "error_form": EnteredInErrorForm(),
        },
    )


@clinic_view(Permission.CONSENT_RECORD)
@require_POST
def signature_entered_in_error(request: HttpRequest, signature_id: int) -> HttpResponse:
    """Mark a signature recorded by mistake (wrong patient, wrong text), with the reason."""
    actor = actor_of(request)
    signature = selectors.consent_signature_get_for_actor(
        actor=actor, signature_id=signature_id, audit=False
    )
    form = EnteredInErrorForm(request.POST)
    try:
        services.consent_signature_enter_in_error(
            actor=actor,
            signature=signature,
            reason=form.data.get("reason", ""),
        )
    except (Conflict, Refused) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, "Marked entered in error; the record stays visible.")
    return redirect("consent_signature", signature_id=signature_id)


@clinic_view(Permission.CONSENT_RECORD)
@require_POST
def signature_withdraw(request: HttpRequest, signature_id: int) -> HttpResponse:
    """Record that the patient withdrew this consent, and why."""
    actor = actor_of(request)
    signature = selectors.consent_signature_get_for_actor(
        actor=actor, signature_id=signature_id, audit=False
    )
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Record why the patient withdraws consent.")
        return redirect("consent_signature", signature_id=signature_id)
    try:
        services.consent_signature_withdraw(
            actor=actor, signature=signature, reason=form.cleaned_data["reason"]
        )
    except (Conflict, Refused) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, "Consent withdrawn.")
    return redirect("consent_signature", signature_id=signature_id)
