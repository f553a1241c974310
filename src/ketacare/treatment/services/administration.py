"""Administration: start of dosing, esketamine devices, infusion changes, end of dosing."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.scheduling.selectors import clinic_zone
from ketacare.treatment import states
from ketacare.treatment.models import (
    Administration,
    AdministrationState,
    DoseOrderStatus,
    EsketamineDevice,
    InfusionChange,
    InfusionChangeKind,
    MonitoringEntry,
    TreatmentSession,
)
from ketacare.treatment.plans import protocol_of
from ketacare.treatment.services import controlled
from ketacare.treatment.services.steps import (
    S,
    _audit,
    _begin_step,
    _begin_versioned_step,
    _clearance,
    _event_time,
    _live_order,
    _move,
    _settle,
    _text,
)

# --- administration -----------------------------------------------------------------------------


def _must_match(given: Decimal | None, ordered: Decimal | None, field: str, what: str) -> None:
    if ordered is None:
        return
    if given is None:
        raise Refused(f"Enter the {what} as verified ({ordered}).", field=field, code="required")
    if Decimal(given) != ordered:
        raise Refused(
            f"The {what} ({given}) differs from the verified order ({ordered}). Give the dose as "
            "verified; changes to a running infusion are recorded as a slow-down or stop.",
            field=field,
            code="differs_from_order",
        )


@transaction.atomic
def administration_start(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    product: str,
    lot: str,
    concentration_mg_per_ml: Decimal | None = None,
    volume_ml: Decimal | None = None,
    rate_ml_per_h: Decimal | None = None,
    started_at: datetime | None = None,
) -> Administration:
    """Start giving the verified dose (for esketamine, the first device), if nothing holds it.

    Refused without a verification by a second clinician, and while the start blood pressure,
    a pre-dose finding or a missing decision holds the start.
    """
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "administration_start",
        Administration,
        version=version,
    )
    if replayed is not None:
        return replayed
    order = _live_order(session)
    if order is None or order.status != DoseOrderStatus.VERIFIED or order.verified_by_id is None:
        raise Refused(
            "The dose has not been verified by a second clinician.",
            field="status",
            code="not_verified",
        )
    if order.verified_by_id == order.ordered_by_id:  # also a database constraint
        raise Refused(
            "The dose was verified by the person who ordered it.",
            field="status",
            code="same_person",
        )
    states.ensure_transition(session.status, S.DOSING)
    clearance = _clearance(session)
    if not clearance.may_start:
        code = "start_blocked" if clearance.blocking else "start_needs_decision"
        raise Refused(clearance.reason, field="status", code=code)
    controlled.rems_gate(session, dosing=True)
    controlled.require_draw(session, order)
    protocol = protocol_of(session)
    route = protocol.route
    if route == "iv":
        _must_match(
            concentration_mg_per_ml,
            order.concentration_mg_per_ml,
            "concentration_mg_per_ml",
            "concentration",
        )
        _must_match(volume_ml, order.volume_ml, "volume_ml", "volume")
        _must_match(rate_ml_per_h, order.rate_ml_per_h, "rate_ml_per_h", "pump rate")
    elif route == "im":
        _must_match(
            concentration_mg_per_ml,
            order.concentration_mg_per_ml,
            "concentration_mg_per_ml",
            "concentration",
        )
        _must_match(volume_ml, order.volume_ml, "volume_ml", "volume")
    moment = _event_time(session, started_at, "started_at", not_before=order.verified_at)
    administration = Administration.objects.create(
        clinic=actor.clinic,
        session=session,
        dose_order=order,
        product=_text(product, "product"),
        lot=_text(lot, "lot"),
        concentration_mg_per_ml=order.concentration_mg_per_ml,
        volume_ml=order.volume_ml,
        rate_ml_per_h=order.rate_ml_per_h,
        current_rate_ml_per_h=order.rate_ml_per_h,
        started_at=moment,
        started_by=actor.user,
    )
    _move(session, S.DOSING, dosing_started_at=moment)
    controlled.open_monitoring_form(session)
    single_shot = route in ("im", "sublingual", "oral") or (
        route == "esketamine" and (order.devices or 0) <= 1
    )
    if route == "esketamine":
        EsketamineDevice.objects.create(
            clinic=actor.clinic,
            administration=administration,
            number=1,
            administered_at=moment,
            recorded_by=actor.user,
            recorded_at=clock.now(),
        )
    if single_shot:
        _end_dosing(actor, session, administration, AdministrationState.COMPLETED, moment)
    _audit(
        actor,
        AuditAction.CREATE,
        "administration",
        administration.pk,
        session,
        {"dose_order_id": order.pk, "lot": administration.lot, "product": administration.product},
    )
    _settle(actor, idempotency_key, session, administration.pk)
    return administration


def _end_dosing(
    actor: Actor,
    session: TreatmentSession,
    administration: Administration,
    state: str,
    at: datetime,
) -> None:
    administration.state = state
    administration.stopped_at = at
    administration.stopped_by = actor.user
    administration.save(update_fields=["state", "stopped_at", "stopped_by"])
    controlled.record_given(actor, session, administration, at)
    _move(session, S.OBSERVATION, dosing_ended_at=at)


def _administration(session: TreatmentSession) -> Administration:
    administration = Administration.objects.filter(session=session).first()
    if administration is None:
        raise Refused("Dosing has not started.", field="status", code="not_started")
    return administration


@transaction.atomic
def esketamine_device_record(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    administered_at: datetime | None = None,
) -> EsketamineDevice:
    """Record the next esketamine device, not before the label's rest after the previous one."""
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "esketamine_device",
        EsketamineDevice,
        version=version,
    )
    if replayed is not None:
        return replayed
    if session.route != "esketamine":
        raise Refused("Devices are for esketamine sessions.", field="status", code="route")
    states.ensure_status_in(session.status, frozenset({S.DOSING}), "record a device")
    administration = _administration(session)
    order = administration.dose_order
    devices = list(administration.devices.order_by("number"))
    if len(devices) >= (order.devices or 0):
        raise Refused(
            f"All {order.devices} devices of the order are recorded.",
            field="number",
            code="all_devices_given",
        )
    last = devices[-1]
    moment = _event_time(
        session, administered_at, "administered_at", not_before=last.administered_at
    )
    rest = timedelta(minutes=order.rest_between_devices_min or 0)
    if moment - last.administered_at < rest:
        earliest = (last.administered_at + rest).astimezone(clinic_zone(session.clinic))
        raise Refused(
            f"The label asks for {order.rest_between_devices_min} minutes' rest between devices: "
            f"device {last.number + 1} not before {earliest:%H:%M}.",
            field="administered_at",
            code="rest_between_devices",
        )
    device = EsketamineDevice.objects.create(
        clinic=actor.clinic,
        administration=administration,
        number=last.number + 1,
        administered_at=moment,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    if device.number == order.devices:
        _end_dosing(actor, session, administration, AdministrationState.COMPLETED, moment)
    else:
        _move(session)
    _audit(actor, AuditAction.CREATE, "esketamine_device", device.pk, session, {"n": device.number})
    _settle(actor, idempotency_key, session, device.pk)
    return device


@transaction.atomic
def infusion_change_record(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    kind: str,
    reason: str,
    rate_ml_per_h: Decimal | None = None,
    at: datetime | None = None,
    monitoring_entry_id: int | None = None,
) -> InfusionChange:
    """Pause, resume, slow or stop the dosing, with a reason; stopping starts the observation."""
    session, replayed = _begin_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "infusion_change",
        InfusionChange,
    )
    if replayed is not None:
        return replayed
    change = _apply_change(
        actor,
        session,
        kind=kind,
        reason=reason,
        rate_ml_per_h=rate_ml_per_h,
        at=at,
        monitoring_entry_id=monitoring_entry_id,
    )
    _settle(actor, idempotency_key, session, change.pk)
    return change


def _apply_change(
    actor: Actor,
    session: TreatmentSession,
    *,
    kind: str,
    reason: str,
    rate_ml_per_h: Decimal | None,
    at: datetime | None,
    monitoring_entry_id: int | None,
) -> InfusionChange:
    states.ensure_status_in(session.status, frozenset({S.DOSING}), "change the dosing")
    administration = _administration(session)
    if kind not in InfusionChangeKind.values:
        raise Refused("Choose pause, resume, slow or stop.", field="kind", code="choice")
    if session.route != "iv" and kind != InfusionChangeKind.STOP:
        raise Refused(
            "Only an infusion can be paused, resumed or slowed; stop the dosing instead.",
            field="kind",
            code="not_an_infusion",
        )
    text = _text(reason, "reason")
    last_change = administration.changes.order_by("-at", "-id").first()
    floor = last_change.at if last_change else administration.started_at
    moment = _event_time(session, at, "at", not_before=floor)
    state = administration.state
    running, paused = AdministrationState.RUNNING, AdministrationState.PAUSED
    allowed_from = {
        InfusionChangeKind.PAUSE: {running},
        InfusionChangeKind.RESUME: {paused},
        InfusionChangeKind.SLOW: {running, paused},
        InfusionChangeKind.STOP: {running, paused},
    }[InfusionChangeKind(kind)]
    if state not in allowed_from:
        raise Refused(
            f"The dosing is {AdministrationState(state).label.lower()}: "
            f"'{InfusionChangeKind(kind).label.lower()}' does not apply.",
            field="kind",
            code="invalid_change",
        )
    new_rate = None
    if kind == InfusionChangeKind.SLOW:
        current = administration.current_rate_ml_per_h
        if rate_ml_per_h is None or rate_ml_per_h <= 0:
            raise Refused("Give the new, lower pump rate.", field="rate_ml_per_h", code="required")
        if current is not None and Decimal(rate_ml_per_h) >= current:
            raise Refused(
                f"Slowing needs a rate below the current {current} mL/h.",
                field="rate_ml_per_h",
                code="not_slower",
            )
        new_rate = Decimal(rate_ml_per_h)
    entry = None
    if monitoring_entry_id is not None:
        entry = MonitoringEntry.objects.filter(pk=monitoring_entry_id, session=session).first()
        if entry is None:
            raise Http404("Monitoring entry not found.")
    change = InfusionChange.objects.create(
        clinic=actor.clinic,
        administration=administration,
        kind=kind,
        at=moment,
        rate_ml_per_h=new_rate,
        reason=text,
        monitoring_entry=entry,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    if kind == InfusionChangeKind.STOP:
        _end_dosing(actor, session, administration, AdministrationState.STOPPED, moment)
    else:
        administration.state = {
            InfusionChangeKind.PAUSE: paused,
            InfusionChangeKind.RESUME: running,
            InfusionChangeKind.SLOW: state,
        }[InfusionChangeKind(kind)]
        if new_rate is not None:
            administration.current_rate_ml_per_h = new_rate
        administration.save(update_fields=["state", "current_rate_ml_per_h"])
        _move(session)
    _audit(
        actor,
        AuditAction.UPDATE,
        "infusion_change",
        change.pk,
        session,
        {"kind": kind, "rate_ml_per_h": str(new_rate) if new_rate else None},
    )
    return change


@transaction.atomic
def administration_complete(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    stopped_at: datetime | None = None,
    volume_infused_ml: Decimal | None = None,
) -> Administration:
    """The infusion ran to its end: record the stop time and the volume given."""
    session, replayed = _begin_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "administration_complete",
        Administration,
    )
    if replayed is not None:
        return replayed
    states.ensure_status_in(session.status, frozenset({S.DOSING}), "complete the infusion")
    administration = _administration(session)
    if session.route != "iv":
        raise Refused("Only an infusion is completed this way.", field="status", code="route")
    if administration.state != AdministrationState.RUNNING:
        raise Refused(
            f"The infusion is {administration.get_state_display().lower()}; resume or stop it.",
            field="status",
            code="invalid_change",
        )
    if volume_infused_ml is not None:
        ordered = administration.volume_ml
        if volume_infused_ml < 0 or (ordered is not None and volume_infused_ml > ordered):
            raise Refused(
                f"The volume infused cannot exceed the {ordered} mL ordered.",
                field="volume_infused_ml",
                code="more_than_ordered",
            )
        administration.volume_infused_ml = volume_infused_ml
        administration.save(update_fields=["volume_infused_ml"])
    last_change = administration.changes.order_by("-at", "-id").first()
    floor = last_change.at if last_change else administration.started_at
    moment = _event_time(session, stopped_at, "stopped_at", not_before=floor)
    _end_dosing(actor, session, administration, AdministrationState.COMPLETED, moment)
    _audit(actor, AuditAction.UPDATE, "administration", administration.pk, session, {"done": True})
    _settle(actor, idempotency_key, session, administration.pk)
    return administration
