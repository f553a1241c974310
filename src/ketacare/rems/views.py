"""REMS pages: the queue of monitoring forms, one form, its PDF, certification, enrolment."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.models import Membership
from ketacare.accounts.permissions import Permission
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import rems as rules
from ketacare.errors import KetaCareError
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.rems import selectors, services
from ketacare.rems.forms import CertificationForm, EnrolmentForm, SubmissionForm
from ketacare.rems.pdf import monitoring_form_pdf
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


def _set_choices(form: forms.Form, name: str, choices: list[Any]) -> None:
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    field.choices = choices


def _attempt(form: forms.Form, call: Callable[[], Any]) -> tuple[Any, int]:
    try:
        return call(), 200
    except KetaCareError as refusal:
        return None, refusal_to_form(form, refusal)


@clinic_view(Permission.REMS_VIEW)
@in_clinic_time
def queue(request: HttpRequest) -> HttpResponse:
    """The clinic's monitoring forms: due, overdue, submitted, with due dates in calendar days."""
    actor = actor_of(request)
    state = request.GET.get("state", "")
    if state not in rules.PmfState._value2member_map_:
        state = ""
    rows = selectors.monitoring_form_queue(actor=actor, state=state)
    audit_record(actor=actor, action=AuditAction.LIST, object_type="rems_form_queue")
    return render_page(
        request,
        "rems/queue.html",
        {
            "rows": rows,
            "state": state,
            "states": list(rules.PmfState),
            "certification": selectors.certification_current(
                clinic_id=actor.clinic_id, on=selectors.clinic_today(actor)
            ),
        },
    )


def _form_page(
    request: HttpRequest, form_id: int, submission: SubmissionForm, status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    form = selectors.monitoring_form_get_for_actor(actor=actor, form_id=form_id)
    definition = rules.pmf_definition(form.definition_version)
    audit_record(
        actor=actor, action=AuditAction.READ, object_type="rems_form", object_id=form.pk,
        patient_id=form.patient_id,
    )  # fmt: skip
    answers = [(f, form.answers.get(f.id)) for f in definition.fields]
    missing = rules.pmf_missing(definition, form.answers) if form.filled_at else []
    today = selectors.clinic_today(actor)
    return render_page(
        request,
        "rems/form.html",
        {
            "form": form,
            "definition": definition,
            "answers": answers,
            "missing": missing,
            "state": rules.pmf_state(
                due_on=form.due_on, submitted_on=form.submitted_on, today=today
            ),
            "submission": submission,
        },
        status=status,
    )


@clinic_view(Permission.REMS_VIEW)
@in_clinic_time
def form_detail(request: HttpRequest, form_id: int) -> HttpResponse:
    """One monitoring form: its answers, signature and submission."""
    today = selectors.clinic_today(actor_of(request))
    return _form_page(request, form_id, SubmissionForm(initial={"submitted_on": today}))


@clinic_view(Permission.REMS_FORM_SIGN)
@require_POST
@in_clinic_time
def form_fill(request: HttpRequest, form_id: int) -> HttpResponse:
    """Fill the form from the session record."""
    try:
        services.monitoring_form_fill(actor=actor_of(request), form_id=form_id)
        messages.success(request, "Filled from the session record. Review, then sign.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return redirect("rems_form", form_id=form_id)


@clinic_view(Permission.REMS_FORM_SIGN)
@require_POST
@in_clinic_time
def form_sign(request: HttpRequest, form_id: int) -> HttpResponse:
    """The monitoring clinician signs the reviewed form."""
    try:
        services.monitoring_form_sign(actor=actor_of(request), form_id=form_id)
        messages.success(request, "Signed.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return redirect("rems_form", form_id=form_id)


@clinic_view(Permission.REMS_FORM_SUBMIT)
@require_POST
@in_clinic_time
def form_submit(request: HttpRequest, form_id: int) -> HttpResponse:
    """Record how and when the form was submitted."""
    actor = actor_of(request)
    submission = SubmissionForm(request.POST)
    status = 422
    if submission.is_valid():
        done, status = _attempt(
            submission,
            lambda: services.monitoring_form_submit(
                actor=actor, form_id=form_id, **submission.cleaned_data
            ),
        )
        if done is not None:
            messages.success(request, "Submission recorded.")
            return redirect("rems_form", form_id=form_id)
    return _form_page(request, form_id, submission, status)


@clinic_view(Permission.REMS_VIEW)
def form_pdf(request: HttpRequest, form_id: int) -> HttpResponse:
    """The form as a PDF to print or keep."""
    actor = actor_of(request)
    form = selectors.monitoring_form_get_for_actor(actor=actor, form_id=form_id)
    audit_record(
        actor=actor, action=AuditAction.EXPORT, object_type="rems_form", object_id=form.pk,
        patient_id=form.patient_id,
    )  # fmt: skip
    response = HttpResponse(monitoring_form_pdf(form), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="pmf-session-{form.session_id}.pdf"'
    return response


@clinic_view(Permission.REMS_VIEW)
@in_clinic_time
def certification(request: HttpRequest) -> HttpResponse:
    """The setting's certification history; the admin records a new one or a change."""
    actor = actor_of(request)
    form = CertificationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        actor.require(Permission.REMS_MANAGE)
        status = 422
        if form.is_valid():
            done, status = _attempt(
                form, lambda: services.certification_record(actor=actor, **form.cleaned_data)
            )
            if done is not None:
                messages.success(request, "Certification recorded.")
                return redirect("rems_certification")
    return render_page(
        request,
        "rems/certification.html",
        {
            "history": selectors.certifications_of(actor=actor),
            "current": selectors.certification_current(
                clinic_id=actor.clinic_id, on=selectors.clinic_today(actor)
            ),
            "form": form,
        },
        status=status,
    )


@clinic_view(Permission.REMS_ENROL)
@in_clinic_time
def enrol(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Enrol a patient in the REMS before their first esketamine dose."""
    actor = actor_of(request)
    patient = patient_get_for_actor(actor=actor, patient_id=patient_id)
    form = EnrolmentForm(
        request.POST or None, initial={"enrolled_on": selectors.clinic_today(actor)}
    )
    prescribers = Membership.objects.filter(
        clinic_id=actor.clinic_id, role=Role.PRESCRIBER, is_active=True
    ).select_related("user")
    _set_choices(form, "prescriber_id", [(m.user_id, m.user.display_name()) for m in prescribers])
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            done, status = _attempt(
                form,
                lambda: services.enrolment_record(
                    actor=actor, patient_id=patient_id, **form.cleaned_data
                ),
            )
            if done is not None:
                messages.success(request, f"{patient.display_name} is enrolled in the REMS.")
                return redirect("rems_enrol", patient_id=patient_id)
    return render_page(
        request,
        "rems/enrol.html",
        {
            "patient": patient,
            "enrolment": selectors.enrolment_of(patient_id=patient.pk),
            "form": form,
        },
        status=status,
    )
