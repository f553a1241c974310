"""The chair-side session pages: today's list, the session page and its steps, the printouts.

Each step is a small POST view that parses a form, calls one service and goes back to the
session page (Post/Redirect/Get). A refused step renders the session page again with the form
as typed and the reason, with the HTTP status of the refusal (409 stale, 422 refused).
Readings are added with htmx without reloading, and the timeline is polled.
"""

import functools
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.clinical.errors import ClinicalError, HardStop, InvalidInput, ProtocolViolation
from ketacare.errors import KetaCareError
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.scheduling.selectors import clinic_zone
from ketacare.treatment import selectors, services, states
from ketacare.treatment.forms import (
    AdministrationStartForm,
    AdverseEventForm,
    CheckInForm,
    CompleteForm,
    DeviceForm,
    DischargeForm,
    DoseOrderForm,
    InfusionChangeForm,
    MonitoringActionForm,
    MonitoringForm,
    PreDoseCheckForm,
    ReasonForm,
    StartDecisionForm,
    VerifyForm,
)
from ketacare.treatment.models import SessionStatus
from ketacare.treatment.plans import plan_as_json
from ketacare.treatment.selectors import SessionRecord
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page

S = SessionStatus
View = Callable[..., HttpResponse]


def in_clinic_time(view: View) -> View:
    """Show and read times in the clinic's own time zone."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(clinic_zone(actor_of(request).clinic)):
            return view(request, *args, **kwargs)

    return wrapped


def _page(session_id: int) -> str:
    return reverse("session_detail", kwargs={"session_id": session_id})


# --- today's sessions -----------------------------------------------------------------------------


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def session_list(request: HttpRequest) -> HttpResponse:
    """Today's treatment appointments and sessions, with check-in for those not started."""
    actor = actor_of(request)
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = selectors.today(actor=actor)
    rows = selectors.sessions_for_day(actor=actor, day=day)
    return render(
        request,
        "treatment/today.html",
        {
            # Each check-in button is its own submission, with its own key.
            "rows": [(row, uuid.uuid4().hex) for row in rows],
            "day": day,
            "is_today": day == selectors.today(actor=actor),
        },
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def session_check_in(request: HttpRequest) -> HttpResponse:
    """Check a patient in: the session page opens at the pre-dose checks."""
    actor = actor_of(request)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The check-in form was incomplete; try again.")
        return redirect("session_list")
    try:
        session = services.session_check_in(
            actor=actor,
            idempotency_key=form.cleaned_data["idempotency_key"],
            appointment_id=form.cleaned_data.get("appointment_id"),
            course_id=form.cleaned_data.get("course_id"),
        )
    except (KetaCareError, ClinicalError) as error:
        messages.error(request, _message(error))
        return redirect("session_list")
    messages.success(request, f"{session.patient.display_name} is checked in.")
    return redirect(_page(session.pk))


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def patient_sessions(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's sessions, as a section of the chart (loaded by htmx) or on their own."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.SESSION_VIEW
    )
    sessions = selectors.patient_sessions(actor=actor, patient=patient)
    return render_page(
        request,
        "treatment/patient_sessions.html",
        {"patient": patient, "sessions": sessions, "allowed": True},
        partial="treatment/_patient_sessions.html",
    )


# --- the session page -----------------------------------------------------------------------------


def _forms(record: SessionRecord, actor: Actor) -> dict[str, Any]:
    """The forms the session's current step offers this actor (unbound)."""
    session = record.session
    status = session.status
    version: dict[str, Any] = {"version": session.version}
    built: dict[str, Any] = {}
    run = actor.can(Permission.SESSION_RUN)
    if run and status in (S.CHECKED_IN, S.PRE_CHECKED):
        built["pre_check"] = PreDoseCheckForm(initial=dict(version))
    clearance = record.clearance
    if (
        actor.can(Permission.CLINICAL_DECISION)
        and status in (S.PRE_CHECKED, S.ORDERED, S.VERIFIED)
        and clearance.concerns
        and not clearance.may_start
    ):
        built["decision"] = StartDecisionForm(initial=dict(version))
    if actor.can(Permission.DOSE_ORDER) and status == S.PRE_CHECKED and clearance.may_start:
        built["order"] = DoseOrderForm(protocol=record.protocol, initial=dict(version))
    order = record.order
    if status == S.ORDERED and order is not None and actor.can(Permission.DOSE_VERIFY):
        if order.ordered_by_id != actor.user.pk:
            built["verify"] = VerifyForm(initial=dict(version))
        built["reject"] = ReasonForm(initial=dict(version))
    if run and status == S.VERIFIED and clearance.may_start:
        initial = dict(version)
        if session.route == "esketamine":
            initial["product"] = "SPRAVATO (esketamine) 28 mg nasal spray device"
        built["start"] = AdministrationStartForm(route=session.route, initial=initial)
    if run and status == S.DOSING:
        if session.route == "esketamine":
            built["device"] = DeviceForm(initial=dict(version))
        built["change"] = InfusionChangeForm(
            initial={"kind": "stop"} if session.route != "iv" else {}
        )
        if session.route == "iv":
            built["complete"] = CompleteForm()
    if run and status == S.OBSERVATION:
        built["discharge"] = DischargeForm(protocol=record.protocol, initial=dict(version))
    if run and status in states.BEFORE_DOSING:
        built["cancel"] = ReasonForm(initial=dict(version), prefix="cancel")
    if run and status in states.OPEN_FOR_READINGS:
        built["monitoring"] = MonitoringForm()
    if run and status in states.OPEN_FOR_ADVERSE_EVENTS:
        built["adverse_event"] = AdverseEventForm()
    if run:
        built["actions"] = {
            e.pk: MonitoringActionForm(prefix=f"action{e.pk}") for e in record.unanswered_alarms
        }
    return built


def _context(
    record: SessionRecord, actor: Actor, bound: dict[str, Any] | None = None
) -> dict[str, Any]:
    built = _forms(record, actor)
    for slot, form in (bound or {}).items():
        if slot == "actions":
            built.setdefault("actions", {}).update(form)
        else:
            built[slot] = form
    return {
        "record": record,
        "session": record.session,
        "patient": record.session.patient,
        "protocol": record.protocol,
        "forms": built,
        "S": {s.name: s.value for s in S},
        "is_orderer": record.order is not None and record.order.ordered_by_id == actor.user.pk,
    }


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    """The chair-side page: the current step first, the monitoring timeline, the record."""
    actor = actor_of(request)
    record = selectors.session_record(actor=actor, session_id=session_id)
    return render(request, "treatment/session.html", _context(record, actor))


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def session_timeline(request: HttpRequest, session_id: int) -> HttpResponse:
    """The timeline fragment for polling: 204 while nothing changed, else the fresh timeline
    (with the alarms, and a notice when the session moved on since the page was loaded)."""
    actor = actor_of(request)
    seen = request.GET.get("v", "")
    if seen and seen == selectors.session_timeline_version(actor=actor, session_id=session_id):
        return HttpResponse(status=204)
    record = selectors.session_record(actor=actor, session_id=session_id)
    page_version = request.GET.get("pv", "")
    context = _context(record, actor)
    context.update(
        {
            "oob_alarms": True,
            "page_version": page_version,
            "stale_notice": bool(page_version) and page_version != str(record.session.version),
        }
    )
    return render(request, "treatment/_timeline_poll.html", context)


def _message(error: Exception) -> str:
    if isinstance(error, KetaCareError):
        return error.message
    if isinstance(error, HardStop):
        return f"Hard stop: {error.reason}"
    if isinstance(error, ProtocolViolation):
        return error.reason
    if isinstance(error, InvalidInput):
        return error.message
    return str(error)


def _field_of(error: Exception) -> str | None:
    return getattr(error, "field", None)


Run = Callable[[Actor, Any], Any]


def _step(
    request: HttpRequest,
    session_id: int,
    *,
    slot: str,
    make_form: Callable[[SessionRecord | None], forms.Form],
    run: Run,
    done: str,
    needs_record: bool = False,
) -> HttpResponse:
    """Parse a step's form, run its service, and go back to the page (or show why not)."""
    actor = actor_of(request)
    record = selectors.session_record(actor=actor, session_id=session_id) if needs_record else None
    form = make_form(record)
    status = 422
    if form.is_valid():
        try:
            run(actor, form)
        except (KetaCareError, ClinicalError) as error:
            field = _field_of(error)
            message = _message(error)
            if field in form.fields and field not in ("version", "idempotency_key"):
                form.add_error(field, message)
            else:
                form.add_error(None, message)
            status = getattr(error, "status_code", 422)
        except PermissionDenied:
            raise
        else:
            messages.success(request, done)
            return redirect(_page(session_id))
    record = selectors.session_record(actor=actor, session_id=session_id)
    context = _context(record, actor, {slot: form})
    context["failed_slot"] = slot
    return render(request, "treatment/session.html", context, status=status)


def _keyed(form: forms.Form) -> dict[str, Any]:
    data = form.cleaned_data
    keyed = {"idempotency_key": data["idempotency_key"]}
    if "version" in data:
        keyed["version"] = data["version"]
    return keyed


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def pre_check(request: HttpRequest, session_id: int) -> HttpResponse:
    """Record the pre-dose checks."""

    def run(actor: Actor, form: PreDoseCheckForm) -> None:
        services.predose_check_record(
            actor=actor, session_id=session_id, **_keyed(form), **form.service_arguments()
        )

    return _step(
        request,
        session_id,
        slot="pre_check",
        make_form=lambda _: PreDoseCheckForm(request.POST),
        run=run,
        done="Pre-dose checks recorded.",
    )


@clinic_view(Permission.CLINICAL_DECISION)
@require_POST
@in_clinic_time
def start_decision(request: HttpRequest, session_id: int) -> HttpResponse:
    """The prescriber decides on what holds the start."""

    def run(actor: Actor, form: StartDecisionForm) -> None:
        services.start_decision_record(
            actor=actor,
            session_id=session_id,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            **_keyed(form),
        )

    return _step(
        request,
        session_id,
        slot="decision",
        make_form=lambda _: StartDecisionForm(request.POST),
        run=run,
        done="Decision recorded.",
    )


@clinic_view(Permission.DOSE_ORDER)
@require_POST
@in_clinic_time
def dose_order(request: HttpRequest, session_id: int) -> HttpResponse:
    """Calculate the dose (preview), or sign the order."""
    actor = actor_of(request)
    if request.POST.get("preview"):
        return _dose_preview(request, actor, session_id)

    def run(actor: Actor, form: DoseOrderForm) -> None:
        services.dose_order_create(
            actor=actor,
            session_id=session_id,
            inputs=form.inputs(),
            override_reason=form.cleaned_data.get("override_reason") or None,
            **_keyed(form),
        )

    return _step(
        request,
        session_id,
        slot="order",
        make_form=lambda record: DoseOrderForm(
            request.POST,
            protocol=record.protocol,  # type: ignore[union-attr]
        ),
        run=run,
        done="Dose ordered: a second clinician must verify it.",
        needs_record=True,
    )


def _dose_preview(request: HttpRequest, actor: Actor, session_id: int) -> HttpResponse:
    """The core's working for the inputs typed so far, without saving (an htmx fragment)."""
    record = selectors.session_record(actor=actor, session_id=session_id)
    form = DoseOrderForm(request.POST, protocol=record.protocol)
    plan = error = None
    if form.is_valid():
        inputs = form.inputs()
        inputs["override_reason"] = form.cleaned_data.get("override_reason") or None
        try:
            plan = plan_as_json(
                selectors.dose_plan_preview(actor=actor, session_id=session_id, inputs=inputs)
            )
        except (KetaCareError, ClinicalError) as exc:
            error = _message(exc)
    else:
        error = "Complete the dose inputs to calculate."
    context = {**_context(record, actor, {"order": form}), "plan": plan, "plan_error": error}
    return render_page(
        request,
        "treatment/session.html",
        context,
        partial="treatment/_plan.html",
        status=200 if plan is not None else 422,
    )


@clinic_view(Permission.DOSE_VERIFY)
@require_POST
@in_clinic_time
def dose_verify(request: HttpRequest, session_id: int) -> HttpResponse:
    """A second clinician verifies the order."""

    def run(actor: Actor, form: VerifyForm) -> None:
        services.dose_order_verify(actor=actor, session_id=session_id, **_keyed(form))

    return _step(
        request,
        session_id,
        slot="verify",
        make_form=lambda _: VerifyForm(request.POST),
        run=run,
        done="Dose verified.",
    )


@clinic_view(Permission.DOSE_VERIFY)
@require_POST
@in_clinic_time
def dose_reject(request: HttpRequest, session_id: int) -> HttpResponse:
    """Send the order back to the prescriber."""

    def run(actor: Actor, form: ReasonForm) -> None:
        services.dose_order_reject(
            actor=actor, session_id=session_id, reason=form.cleaned_data["reason"], **_keyed(form)
        )

    return _step(
        request,
        session_id,
        slot="reject",
        make_form=lambda _: ReasonForm(request.POST),
        run=run,
        done="Order sent back to the prescriber.",
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def administration_start(request: HttpRequest, session_id: int) -> HttpResponse:
    """Start giving the verified dose."""

    def run(actor: Actor, form: AdministrationStartForm) -> None:
        services.administration_start(
            actor=actor, session_id=session_id, **_keyed(form), **form.service_arguments()
        )

    return _step(
        request,
        session_id,
        slot="start",
        make_form=lambda record: AdministrationStartForm(
            request.POST,
            route=record.session.route,  # type: ignore[union-attr]
        ),
        run=run,
        done="Dosing started.",
        needs_record=True,
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def esketamine_device(request: HttpRequest, session_id: int) -> HttpResponse:
    """Record the next esketamine device."""

    def run(actor: Actor, form: DeviceForm) -> None:
        services.esketamine_device_record(
            actor=actor,
            session_id=session_id,
            administered_at=form.cleaned_data.get("administered_at"),
            **_keyed(form),
        )

    return _step(
        request,
        session_id,
        slot="device",
        make_form=lambda _: DeviceForm(request.POST),
        run=run,
        done="Device recorded.",
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def infusion_change(request: HttpRequest, session_id: int) -> HttpResponse:
    """Pause, resume, slow or stop the dosing."""

    def run(actor: Actor, form: InfusionChangeForm) -> None:
        data = form.cleaned_data
        services.infusion_change_record(
            actor=actor,
            session_id=session_id,
            kind=data["kind"],
            reason=data["reason"],
            rate_ml_per_h=data.get("rate_ml_per_h"),
            at=data.get("at"),
            **_keyed(form),
        )

    return _step(
        request,
        session_id,
        slot="change",
        make_form=lambda _: InfusionChangeForm(request.POST),
        run=run,
        done="Change recorded.",
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def administration_complete(request: HttpRequest, session_id: int) -> HttpResponse:
    """The infusion ran to its end: observation starts."""

    def run(actor: Actor, form: CompleteForm) -> None:
        services.administration_complete(
            actor=actor,
            session_id=session_id,
            stopped_at=form.cleaned_data.get("stopped_at"),
            volume_infused_ml=form.cleaned_data.get("volume_infused_ml"),
            **_keyed(form),
        )

    return _step(
        request,
        session_id,
        slot="complete",
        make_form=lambda _: CompleteForm(request.POST),
        run=run,
        done="Infusion complete: observation has started.",
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def monitoring_entry(request: HttpRequest, session_id: int) -> HttpResponse:
    """Add a reading; with htmx only the monitoring card (and the alarms) are redrawn."""
    actor = actor_of(request)
    form = MonitoringForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.monitoring_entry_record(
                actor=actor, session_id=session_id, **_keyed(form), **form.service_arguments()
            )
        except (KetaCareError, ClinicalError) as error:
            field = _field_of(error)
            if field in form.fields and field != "idempotency_key":
                form.add_error(field, _message(error))
            else:
                form.add_error(None, _message(error))
            status = getattr(error, "status_code", 422)
        else:
            if not getattr(request, "htmx", False):
                messages.success(request, "Reading recorded.")
                return redirect(_page(session_id))
            form = MonitoringForm()
            status = 200
    record = selectors.session_record(actor=actor, session_id=session_id)
    context = _context(record, actor, {"monitoring": form})
    context["oob_alarms"] = True
    return render_page(
        request,
        "treatment/session.html",
        context,
        partial="treatment/_monitoring.html",
        status=status,
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def monitoring_action(
    request: HttpRequest, session_id: int, monitoring_entry_id: int
) -> HttpResponse:
    """Record what was done about an alarm (pausing, slowing or stopping does it)."""
    prefix = f"action{monitoring_entry_id}"

    def run(actor: Actor, form: MonitoringActionForm) -> None:
        data = form.cleaned_data
        services.monitoring_action_record(
            actor=actor,
            session_id=session_id,
            monitoring_entry_id=monitoring_entry_id,
            idempotency_key=data["idempotency_key"],
            action=data["action"],
            note=data["note"],
            rate_ml_per_h=data.get("rate_ml_per_h"),
        )

    actor = actor_of(request)
    form = MonitoringActionForm(request.POST, prefix=prefix)
    status = 422
    if form.is_valid():
        try:
            run(actor, form)
        except (KetaCareError, ClinicalError) as error:
            form.add_error(None, _message(error))
            status = getattr(error, "status_code", 422)
        else:
            messages.success(request, "Action recorded.")
            return redirect(_page(session_id))
    record = selectors.session_record(actor=actor, session_id=session_id)
    context = _context(record, actor, {"actions": {monitoring_entry_id: form}})
    return render(request, "treatment/session.html", context, status=status)


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def adverse_event(request: HttpRequest, session_id: int) -> HttpResponse:
    """Record an adverse event."""

    def run(actor: Actor, form: AdverseEventForm) -> None:
        data = form.cleaned_data
        services.adverse_event_record(
            actor=actor,
            session_id=session_id,
            idempotency_key=data["idempotency_key"],
            kind=data["kind"],
            severity=data["severity"],
            outcome=data["outcome"],
            onset_at=data.get("onset_at"),
            description=data["description"],
            intervention=data["intervention"],
        )

    return _step(
        request,
        session_id,
        slot="adverse_event",
        make_form=lambda _: AdverseEventForm(request.POST),
        run=run,
        done="Adverse event recorded.",
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def discharge(request: HttpRequest, session_id: int) -> HttpResponse:
    """Discharge (refused early or with criteria unmet, unless a prescriber says why)."""

    def run(actor: Actor, form: DischargeForm) -> None:
        services.discharge_record(
            actor=actor, session_id=session_id, **_keyed(form), **form.service_arguments()
        )

    return _step(
        request,
        session_id,
        slot="discharge",
        make_form=lambda record: DischargeForm(
            request.POST,
            protocol=record.protocol,  # type: ignore[union-attr]
        ),
        run=run,
        done="Discharged. The summary is ready to print.",
        needs_record=True,
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def cancel(request: HttpRequest, session_id: int) -> HttpResponse:
    """End the session before dosing, with the reason."""

    def run(actor: Actor, form: ReasonForm) -> None:
        services.session_cancel(
            actor=actor, session_id=session_id, reason=form.cleaned_data["reason"], **_keyed(form)
        )

    return _step(
        request,
        session_id,
        slot="cancel",
        make_form=lambda _: ReasonForm(request.POST, prefix="cancel"),
        run=run,
        done="Session cancelled.",
    )


# --- printouts ------------------------------------------------------------------------------------


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def session_summary(request: HttpRequest, session_id: int) -> HttpResponse:
    """The printable session summary."""
    record = selectors.session_record(actor=actor_of(request), session_id=session_id)
    return render(
        request,
        "treatment/summary.html",
        {
            "record": record,
            "session": record.session,
            "patient": record.session.patient,
            "protocol": record.protocol,
            "print_view": True,
        },
    )


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def rems_record(request: HttpRequest, session_id: int) -> HttpResponse:
    """The esketamine REMS patient monitoring record, printable."""
    try:
        rems = selectors.rems_record(actor=actor_of(request), session_id=session_id)
    except KetaCareError as error:
        messages.error(request, error.message)
        return redirect(_page(session_id))
    record = rems.record
    return render(
        request,
        "treatment/rems.html",
        {
            "rems": rems,
            "record": record,
            "session": record.session,
            "patient": record.session.patient,
        },
    )
