"""Pre-dose checks, the start decision, and the dose order with its verification (POST steps)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.clinical.errors import ClinicalError
from ketacare.errors import KetaCareError
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.treatment import selectors, services
from ketacare.treatment.forms import (
    DoseOrderForm,
    PreDoseCheckForm,
    ReasonForm,
    StartDecisionForm,
    VerifyForm,
)
from ketacare.treatment.plans import plan_as_json
from ketacare.treatment.views.session_page import _context
from ketacare.treatment.views.step_runner import _keyed, _step
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_message
from ketacare.web.htmx import render_page


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
            error = refusal_message(exc)
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
