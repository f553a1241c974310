"""Recovery pages: the safety-review worklist, a patient's signals and decisions, the relapse
plan, the substance-use programme, and Part 2 consents, disclosures and their accounting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import misuse as core
from ketacare.clinical import recovery as rules
from ketacare.clinical.instruments import get_instrument
from ketacare.errors import KetaCareError
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.recovery import selectors, services
from ketacare.recovery.facts import misuse_facts_for
from ketacare.recovery.forms import (
    DecisionForm,
    DrugScreenForm,
    SessionRequestForm,
)
from ketacare.recovery.services.common import today_of
from ketacare.recovery.services.review import signal_json
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


def _patient(request: HttpRequest, patient_id: int, permission: Permission) -> Patient:
    return patient_get_for_actor(
        actor=actor_of(request), patient_id=patient_id, permission=permission
    )


def _read(actor: Actor, kind: str, patient: Patient, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type=kind,
        object_id=patient.pk,
        patient_id=patient.pk,
        detail=detail or None,
    )


def attempt(form: forms.Form, call: Callable[[], Any]) -> tuple[Any, int]:
    """Run a service; a refusal lands on the form with its status."""
    try:
        return call(), 200
    except KetaCareError as refusal:
        return None, refusal_to_form(form, refusal)


@clinic_view(Permission.RECOVERY_VIEW)
def worklist(request: HttpRequest) -> HttpResponse:
    """Patients whose signals await a prescriber's decision, severe first, with the evidence."""
    actor = actor_of(request)
    rows = selectors.worklist(actor=actor)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="misuse_worklist",
        detail={"patient_ids": [r.patient_id for r in rows]},
    )
    return render_page(request, "recovery/worklist.html", {"rows": rows})


@clinic_view(Permission.RECOVERY_RECORD)
@require_POST
def worklist_refresh(request: HttpRequest) -> HttpResponse:
    """Reassess every patient of the clinic from today's facts."""
    actor = actor_of(request)
    today = today_of(actor)
    for patient in Patient.objects.filter(clinic_id=actor.clinic_id).select_related("clinic"):
        services.misuse_review_refresh(actor=actor, patient=patient, today=today)
    return redirect("recovery_worklist")


def _patient_page(
    request: HttpRequest, patient_id: int, status: int = 200, **forms_: forms.Form
) -> HttpResponse:
    actor = actor_of(request)
    patient = _patient(request, patient_id, Permission.RECOVERY_VIEW)
    today = today_of(actor)
    assessment = core.assess(misuse_facts_for(patient=patient, today=today))
    part2 = actor.can(Permission.PART2_VIEW)
    _read(actor, "misuse_signals", patient, signals=[s.id for s in assessment.signals])
    context = {
        "patient": patient,
        "assessment": assessment,
        "signals": [signal_json(s) for s in assessment.signals],
        "decisions": selectors.decisions_of(patient=patient),
        "screens": selectors.drug_screens_of(patient=patient, part2_allowed=part2),
        "requests": selectors.session_requests_of(patient=patient),
        "decision_form": forms_.get("decision_form") or DecisionForm(),
        "screen_form": forms_.get("screen_form") or DrugScreenForm(initial={"collected_on": today}),
        "request_form": forms_.get("request_form")
        or SessionRequestForm(initial={"requested_on": today}),
    }
    return render_page(request, "recovery/patient.html", context, status=status)


@clinic_view(Permission.RECOVERY_VIEW)
def patient_recovery(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's misuse signals with their evidence, decisions, drug screens and requests."""
    return _patient_page(request, patient_id)


@clinic_view(Permission.RECOVERY_DECIDE)
@require_POST
def decide(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The prescriber records continue, reduce, pause, taper, stop or refer, with a reason."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _patient_page(request, patient_id, 422, decision_form=form)
    data = form.cleaned_data
    _, status = attempt(
        form,
        lambda: services.misuse_decision_record(
            actor=actor_of(request),
            patient_id=patient_id,
            decision=data["decision"],
            reason=data["reason"],
            idempotency_key=data["idempotency_key"],
        ),
    )
    if status != 200:
        return _patient_page(request, patient_id, status, decision_form=form)
    return redirect("recovery_patient", patient_id=patient_id)


@clinic_view(Permission.RECOVERY_RECORD)
@require_POST
def drug_screen(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record a urine drug screen result."""
    form = DrugScreenForm(request.POST)
    if form.is_valid():
        _, status = attempt(
            form,
            lambda: services.drug_screen_record(
                actor=actor_of(request), patient_id=patient_id, **form.cleaned_data
            ),
        )
        if status == 200:
            return redirect("recovery_patient", patient_id=patient_id)
    else:
        status = 422
    return _patient_page(request, patient_id, status, screen_form=form)


@clinic_view(Permission.RECOVERY_RECORD)
@require_POST
def session_request(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Note a request for an earlier or an extra session."""
    form = SessionRequestForm(request.POST)
    if form.is_valid():
        _, status = attempt(
            form,
            lambda: services.session_request_record(
                actor=actor_of(request), patient_id=patient_id, **form.cleaned_data
            ),
        )
        if status == 200:
            return redirect("recovery_patient", patient_id=patient_id)
    else:
        status = 422
    return _patient_page(request, patient_id, status, request_form=form)


@clinic_view(Permission.RECOVERY_VIEW)
def chart_panel(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The chart's recovery card: signals awaiting review, the plan and the programme."""
    actor = actor_of(request)
    patient = _patient(request, patient_id, Permission.RECOVERY_VIEW)
    review = selectors.review_latest(patient=patient)
    plan = selectors.plan_state(patient=patient, today=today_of(actor))
    programme = (
        selectors.programme_of(patient=patient) if actor.can(Permission.PART2_VIEW) else None
    )
    _read(actor, "recovery_panel", patient)
    return render_page(
        request,
        "recovery/_panel.html",
        {"patient": patient, "review": review, "plan": plan, "programme": programme},
    )


def instruments_context() -> dict[str, Any]:
    """The recovery screens and their licences, for the pages that list them."""
    ids = (
        "audit_c",
        "audit",
        "dast10",
        "craving_nrs",
        "ketamine_bladder_checklist",
        "ketamine_withdrawal_checklist",
    )
    return {"instruments": [get_instrument(i) for i in ids], "notice": rules.REDISCLOSURE_NOTICE}


@clinic_view(Permission.PART2_VIEW)
def outcome_tiles(request: HttpRequest) -> HttpResponse:
    """The outcomes dashboard's tiles for substance-use programmes (Part 2 roles only)."""
    actor = actor_of(request)
    summary = selectors.programmes_summary(actor=actor, today=today_of(actor))
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="sud_outcomes_summary",
        object_id=actor.clinic_id,
        detail={"part2": True, "programmes": summary.programmes},
    )
    return render_page(
        request,
        "recovery/_outcome_tiles.html",
        {"summary": summary, "notice": rules.REDISCLOSURE_NOTICE},
    )
