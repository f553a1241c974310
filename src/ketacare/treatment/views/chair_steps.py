"""Administration, monitoring, adverse events, discharge and cancelling (POST steps)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.clinical.errors import ClinicalError
from ketacare.errors import KetaCareError
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.treatment import selectors, services
from ketacare.treatment.forms import (
    AdministrationStartForm,
    AdverseEventForm,
    CompleteForm,
    DeviceForm,
    DischargeForm,
    InfusionChangeForm,
    MedicineGivenForm,
    MonitoringActionForm,
    MonitoringForm,
    ReasonForm,
)
from ketacare.treatment.views.common import _page
from ketacare.treatment.views.session_page import _context
from ketacare.treatment.views.step_runner import _keyed, _step
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


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
            delivery=record.protocol.delivery,  # type: ignore[union-attr]
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
            status = refusal_to_form(form, error)
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
            status = refusal_to_form(form, error, on_field=False)
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
def medicine_given(request: HttpRequest, session_id: int) -> HttpResponse:
    """Record a medicine given during the session."""

    def run(actor: Actor, form: MedicineGivenForm) -> None:
        data = form.cleaned_data
        services.medicine_given_record(
            actor=actor,
            session_id=session_id,
            idempotency_key=data["idempotency_key"],
            medicine=data["medicine"],
            dose=data["dose"],
            unit=data["unit"],
            route=data["route"],
            given_at=data.get("given_at"),
            indication=data["indication"],
        )

    return _step(
        request,
        session_id,
        slot="medicine_given",
        make_form=lambda _: MedicineGivenForm(request.POST),
        run=run,
        done="Medicine given recorded.",
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
