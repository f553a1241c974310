"""Staff pages of follow-up care: trajectories, worklists, dashboard, links, policy, notes."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.clinical.instruments import INSTRUMENT_IDS, get_instrument
from ketacare.clinical.outcomes import load_outcome_rules
from ketacare.clinical.protocols import PROTOCOL_IDS, get_protocol
from ketacare.errors import KetaCareError
from ketacare.followup import dispatch, selectors, services
from ketacare.followup.note_templates import NOTE_TEMPLATES
from ketacare.followup.policy import DEFAULT_POLICY, portal_instruments
from ketacare.followup.portal import (
    INTAKE_LINK_LIFETIME,
    JOURNAL_LINK_LIFETIME,
    QR_LINK_LIFETIME,
    pending_portal_assignments,
    portal_link_issue,
)
from ketacare.kernel import clock
from ketacare.outcomes.models import PortalLinkPurpose, QuestionnaireAssignment
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _instrument_choices() -> list[tuple[str, str]]:
    return [(i, get_instrument(i).short_name) for i in portal_instruments()]


# --- worklists and the dashboard --------------------------------------------------------------


@clinic_view(Permission.OUTCOMES_VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Patients in active courses, outcomes by protocol, overdue questionnaires, alerts."""
    instrument_id = request.GET.get("instrument", "phq9")
    board = selectors.outcomes_dashboard(actor=actor_of(request), instrument_id=instrument_id)
    return render_page(
        request,
        "followup/dashboard.html",
        {
            "board": board,
            "instruments": [
                (i, get_instrument(i).short_name) for i in load_outcome_rules().classifiable
            ],
        },
    )


@clinic_view(Permission.QUESTIONNAIRE_VIEW)
def booster_list(request: HttpRequest) -> HttpResponse:
    """The 'consider booster' worklist, with the core's evidence for each patient."""
    candidates = selectors.booster_worklist(actor=actor_of(request))
    return render_page(request, "followup/booster_list.html", {"candidates": candidates})


@clinic_view(Permission.QUESTIONNAIRE_VIEW)
def overdue_list(request: HttpRequest) -> HttpResponse:
    """Questionnaires past due and unanswered (missed)."""
    rows = selectors.overdue_page(actor=actor_of(request), after=request.GET.get("after"))
    return render_page(request, "followup/overdue_list.html", {"rows": rows, "page": rows})


# --- a patient ----------------------------------------------------------------------------


@clinic_view(Permission.QUESTIONNAIRE_VIEW)
def patient_outcomes(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's trajectories with bands, baseline and sessions; outcome; questionnaires."""
    actor = actor_of(request)
    data = selectors.patient_outcomes(actor=actor, patient_id=patient_id)
    context = {
        "data": data,
        "patient": data.patient,
        "instrument_choices": _instrument_choices(),
        "idempotency_key": secrets.token_hex(16),
    }
    return render_page(
        request, "followup/patient_outcomes.html", context, partial="followup/_patient_panel.html"
    )


def _requested(request: HttpRequest, patient_id: int, now: datetime) -> tuple[Patient, list[str]]:
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.QUESTIONNAIRE_SEND, audit=False
    )
    chosen = [i for i in request.POST.getlist("instrument_ids") if i in portal_instruments()]
    if chosen:
        services.questionnaires_assign_now(
            actor=actor,
            patient=patient,
            instrument_ids=chosen,
            idempotency_key=request.POST.get("idempotency_key", ""),
            now=now,
        )
    return patient, chosen


def _back_to_patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    return redirect("patient_detail", patient_id=patient_id)


@clinic_view(Permission.QUESTIONNAIRE_SEND)
@require_POST
def patient_send(request: HttpRequest, patient_id: int) -> HttpResponse:
    """E-mail the patient a link to their open questionnaires (adding any chosen now)."""
    actor = actor_of(request)
    now = clock.now()
    try:
        patient, _ = _requested(request, patient_id, now)
        dispatch.questionnaires_email_now(actor=actor, patient=patient, now=now)
        messages.success(request, "The questionnaire link was e-mailed to the patient.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return _back_to_patient(request, patient_id)


@clinic_view(Permission.QUESTIONNAIRE_SEND)
@require_POST
def patient_qr(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A short-lived link as a QR code and in large type, for the clinic tablet."""
    actor = actor_of(request)
    now = clock.now()
    try:
        patient, _ = _requested(request, patient_id, now)
        open_ones = pending_portal_assignments(patient=patient, now=now)
        issued = portal_link_issue(
            actor=actor,
            patient=patient,
            purpose=PortalLinkPurpose.QUESTIONNAIRES,
            assignments=open_ones,
            channel="qr",
            expires_at=min([now + QR_LINK_LIFETIME, *(a.due_by for a in open_ones)]),
            now=now,
        )
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
        return _back_to_patient(request, patient_id)
    return _qr_page(request, patient, issued.url, issued.link.expires_at, open_ones)


@clinic_view(Permission.QUESTIONNAIRE_SEND)
@require_POST
def patient_journal_link(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Give the patient a journal link: by e-mail, or as a QR code here."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.QUESTIONNAIRE_SEND, audit=False
    )
    now = clock.now()
    try:
        if request.POST.get("how") == "qr":
            issued = portal_link_issue(
                actor=actor,
                patient=patient,
                purpose=PortalLinkPurpose.JOURNAL,
                assignments=[],
                channel="qr",
                expires_at=now + JOURNAL_LINK_LIFETIME,
                now=now,
            )
            return _qr_page(request, patient, issued.url, issued.link.expires_at, [])
        dispatch.journal_link_email(actor=actor, patient=patient, now=now)
        messages.success(request, "The journal link was e-mailed to the patient.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return _back_to_patient(request, patient_id)


@clinic_view(Permission.QUESTIONNAIRE_SEND)
@require_POST
def patient_intake_link(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Give the patient the intake forms to fill in before the first visit: e-mail or QR."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.QUESTIONNAIRE_SEND, audit=False
    )
    now = clock.now()
    try:
        if request.POST.get("how") == "qr":
            issued = portal_link_issue(
                actor=actor,
                patient=patient,
                purpose=PortalLinkPurpose.INTAKE,
                assignments=[],
                channel="qr",
                expires_at=now + INTAKE_LINK_LIFETIME,
                now=now,
            )
            return _qr_page(
                request, patient, issued.url, issued.link.expires_at, [], what="Intake forms"
            )
        dispatch.intake_link_email(actor=actor, patient=patient, now=now)
        messages.success(request, "The intake forms link was e-mailed to the patient.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return _back_to_patient(request, patient_id)


def _qr_page(
    request: HttpRequest,
    patient: Patient,
    url: str,
    expires_at: datetime,
    assignments: Sequence[QuestionnaireAssignment],
    what: str = "Journal",
) -> HttpResponse:
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=6, border=2, title="QR code of the patient's link")
    response = render_page(
        request,
        "followup/qr.html",
        {
            "patient": patient,
            "url": url,
            "qr_svg": svg,
            "expires_at": expires_at,
            "assignments": assignments,
            "what": what,
        },
    )
    response["Cache-Control"] = "no-store"  # the page holds a live token
    return response


@clinic_view(Permission.JOURNAL_VIEW)
def patient_journal(request: HttpRequest, patient_id: int) -> HttpResponse:
    """What the patient wrote in the portal journal, newest first."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.JOURNAL_VIEW
    )
    entries = selectors.journal_entries(actor=actor, patient=patient)
    return render_page(request, "followup/journal.html", {"patient": patient, "entries": entries})


# --- clinic configuration -----------------------------------------------------------------


POLICY_NUMBERS = (
    ("before_session_lead_hours", "Hours before a session the pre-session questionnaires open"),
    ("during_course_every_days", "During a course, every this many days"),
    ("after_course_weekly_count", "After a course: weekly, this many times"),
    ("after_course_monthly_count", "…then monthly, this many times"),
    ("window_days", "Days a questionnaire stays open before it counts as missed"),
    ("reminder_after_hours", "Hours after the invitation to send one reminder"),
)
POLICY_LISTS = (
    ("before_session_instruments", "Before each session"),
    ("during_course_instruments", "During a course"),
    ("after_course_instruments", "After a course"),
)


@clinic_view(Permission.CLINIC_MANAGE)
def policy_edit(request: HttpRequest) -> HttpResponse:
    """The clinic's questionnaire schedule, or one protocol's (clinic policy, with defaults)."""
    actor = actor_of(request)
    protocol_id = request.GET.get("protocol", "")
    if protocol_id not in PROTOCOL_IDS:
        protocol_id = ""
    policy, row = selectors.questionnaire_policy_for(actor=actor, protocol_id=protocol_id)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values: dict[str, object] = {name: request.POST.getlist(name) for name, _ in POLICY_LISTS}
        for name, _ in POLICY_NUMBERS:
            parsed = _int(request.POST.get(name))
            values[name] = parsed if parsed is not None else -1
        try:
            services.questionnaire_policy_save(
                actor=actor,
                protocol_id=protocol_id,
                version=_int(request.POST.get("version")),
                values=values,
            )
        except KetaCareError as refusal:
            errors[refusal.field or "form"] = refusal.message
            status = 409 if refusal.status_code == 409 else 422
        else:
            messages.success(request, "Questionnaire schedule saved.")
            response = redirect("questionnaire_policy")
            if protocol_id:
                response["Location"] += f"?protocol={protocol_id}"
            return response
    all_instruments = [
        (i, get_instrument(i).short_name, get_instrument(i).respondent) for i in INSTRUMENT_IDS
    ]
    return render_page(
        request,
        "followup/policy.html",
        {
            "policy": policy,
            "row": row,
            "protocol_id": protocol_id,
            "protocols": [(p, get_protocol(p).title) for p in PROTOCOL_IDS],
            "defaults": DEFAULT_POLICY,
            "numbers": [(n, label, getattr(policy, n)) for n, label in POLICY_NUMBERS],
            "lists": [(n, label, getattr(policy, n)) for n, label in POLICY_LISTS],
            "all_instruments": all_instruments,
            "portal_instruments": portal_instruments(),
            "errors": errors,
        },
        status=status,
    )


# --- integration therapy ----------------------------------------------------------------------


@clinic_view(Permission.INTEGRATION_NOTE_VIEW)
def patient_integration_notes(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's integration-session notes (only for roles the permission table allows)."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.INTEGRATION_NOTE_VIEW
    )
    notes = selectors.integration_notes_for(actor=actor, patient=patient)
    sessions = (
        selectors.note_sessions(patient) if actor.can(Permission.INTEGRATION_NOTE_WRITE) else []
    )
    return render_page(
        request,
        "followup/integration_notes.html",
        {
            "patient": patient,
            "notes": notes,
            "sessions": sessions,
            "templates": list(NOTE_TEMPLATES.values()),
            "idempotency_key": secrets.token_hex(16),
        },
    )


@clinic_view(Permission.INTEGRATION_NOTE_WRITE)
@require_POST
def integration_note_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Write an integration note on one of the patient's sessions."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.INTEGRATION_NOTE_WRITE,
        audit=False,
    )
    template = request.POST.get("template", "free")
    spec = NOTE_TEMPLATES.get(template)
    try:
        services.integration_note_write(
            actor=actor,
            patient=patient,
            session_id=_int(request.POST.get("session_id")) or None,
            body=request.POST.get("body", ""),
            idempotency_key=request.POST.get("idempotency_key", ""),
            template=template,
            sections={
                key: request.POST.get(f"{template}_{key}", "")
                for key, _ in (spec.sections if spec else ())
            },
        )
        messages.success(request, "Integration note saved.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return redirect("patient_integration_notes", patient_id=patient_id)


@clinic_view(Permission.INTEGRATION_NOTE_WRITE)
@require_POST
def integration_note_entered_in_error(
    request: HttpRequest, patient_id: int, note_id: int
) -> HttpResponse:
    """Mark a note entered in error, with the reason; it stays on the list."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.INTEGRATION_NOTE_WRITE,
        audit=False,
    )
    try:
        services.integration_note_enter_in_error(
            actor=actor, patient=patient, note_id=note_id, reason=request.POST.get("reason", "")
        )
        messages.success(request, "Note marked entered in error; it stays on the list.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return redirect("patient_integration_notes", patient_id=patient_id)
