"""The session page and its polled timeline."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.treatment import selectors, states
from ketacare.treatment.forms import (
    CHAIR_SIDE_MEDICINES,
    AdministrationStartForm,
    AdverseEventForm,
    CompleteForm,
    DeviceForm,
    DischargeForm,
    DoseOrderForm,
    InfusionChangeForm,
    MedicineGivenForm,
    MonitoringActionForm,
    MonitoringForm,
    PreDoseCheckForm,
    ReasonForm,
    StartDecisionForm,
    VerifyForm,
)
from ketacare.treatment.models import AdverseEventOutcome
from ketacare.treatment.selectors import SessionRecord
from ketacare.treatment.views.common import S
from ketacare.web.access import actor_of, clinic_view

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
    delivery = record.protocol.delivery
    if run and status == S.VERIFIED and clearance.may_start:
        initial = dict(version)
        if delivery.devices:
            initial["product"] = "SPRAVATO (esketamine) 28 mg nasal spray device"
        built["start"] = AdministrationStartForm(delivery=delivery, initial=initial)
    if run and status == S.DOSING:
        if delivery.devices:
            built["device"] = DeviceForm(initial=dict(version))
        built["change"] = InfusionChangeForm(initial={} if delivery.pausable else {"kind": "stop"})
        if delivery.pausable:
            built["complete"] = CompleteForm()
    if run and status == S.OBSERVATION:
        built["discharge"] = DischargeForm(protocol=record.protocol, initial=dict(version))
    if run and status in states.BEFORE_DOSING:
        built["cancel"] = ReasonForm(initial=dict(version), prefix="cancel")
    if run and status in states.OPEN_FOR_READINGS:
        built["monitoring"] = MonitoringForm()
    if run and status in states.OPEN_FOR_ADVERSE_EVENTS:
        built["adverse_event"] = AdverseEventForm()
        built["medicine_given"] = MedicineGivenForm()
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
        "ae_outcomes": AdverseEventOutcome.choices,
        "medicine_names": CHAIR_SIDE_MEDICINES,
        "is_orderer": record.order is not None and record.order.ordered_by_id == actor.user.pk,
        "dosing": (
            selectors.dosing_context(record.session)
            if record.session.status in DOSING_CONTEXT_STATUSES
            else None
        ),
    }


# Where the dose is ordered, verified and given, the page shows allergies, weights, last dose.
DOSING_CONTEXT_STATUSES = frozenset({S.CHECKED_IN, S.PRE_CHECKED, S.ORDERED, S.VERIFIED})


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
