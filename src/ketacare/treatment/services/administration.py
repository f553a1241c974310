"""Administration: start of dosing, esketamine devices, infusion changes, end of dosing."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.clinical.readiness import DOSE_GIVE
from ketacare.clinical.timing import check_infusion_complete, next_device
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.scheduling.selectors import clinic_zone
from ketacare.treatment import states
from ketacare.treatment.facts import step_facts
from ketacare.treatment.models import (
    Administration,
    AdministrationState,
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
    _event_time,
    _move,
    _settle,
    _text,
    invariant,
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
    facts = step_facts(session)
    blocker = facts.readiness.first(DOSE_GIVE)
    if blocker is not None:
        raise Refused(blocker.reason, field=blocker.field, code=blocker.code)
    states.ensure_transition(session.status, S.DOSING)
    order = facts.order
    if order is None:  # pragma: no cover - readiness said the order is verified
        invariant("a verified order exists")
    controlled.rems_gate(session, dosing=True)
    controlled.require_draw(session, order)
    delivery = facts.protocol.delivery
    given = {
        "concentration_mg_per_ml": (concentration_mg_per_ml, "concentration"),
        "volume_ml": (volume_ml, "volume"),
        "rate_ml_per_h": (rate_ml_per_h, "pump rate"),
    }
    for name in delivery.confirm_at_start:
        value, what = given[name]
        _must_match(value, getattr(order, name), name, what)
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
    single_shot = delivery.ends_on_start or (delivery.devices and (order.devices or 0) <= 1)
    if delivery.devices:
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
    if administration is None:  # pragma: no cover - callers check the session is being dosed
        invariant("a session being dosed has its administration")
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
    facts = step_facts(session)
    if not facts.protocol.delivery.devices:
        raise Refused("Devices are for esketamine sessions.", field="status", code="route")
    states.ensure_status_in(session.status, frozenset({S.DOSING}), "record a device")
    administration = facts.administration
    if administration is None:  # pragma: no cover - dosing started with the first device
        invariant("a session being dosed has its administration")
    order = administration.dose_order
    devices = list(facts.devices)
    floor = devices[-1].administered_at if devices else administration.started_at
    moment = _event_time(session, administered_at, "administered_at", not_before=floor)
    check = next_device(
        ordered_devices=order.devices or 0,
        rest_min=order.rest_between_devices_min or 0,
        given_at=[d.administered_at for d in devices],
        at=moment,
    )
    if not check.allowed:
        if check.earliest_at is not None:
            earliest = check.earliest_at.astimezone(clinic_zone(session.clinic))
            message = (
                f"The label asks for {order.rest_between_devices_min} minutes' rest between "
                f"devices: device {check.number} not before {earliest:%H:%M}."
            )
        else:
            message = f"All {order.devices} devices of the order are recorded."
        raise Refused(
            message,
            field="administered_at" if check.earliest_at is not None else "number",
            code=check.code,
        )
    last_number = devices[-1].number if devices else 0
    device = EsketamineDevice.objects.create(
        clinic=actor.clinic,
        administration=administration,
        number=last_number + 1,
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
    if not protocol_of(session).delivery.pausable and kind != InfusionChangeKind.STOP:
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
    facts = step_facts(session)
    administration = facts.administration
    if administration is None:  # pragma: no cover - status DOSING has an administration
        invariant("a session being dosed has its administration")
    if not facts.protocol.delivery.pausable:
        raise Refused("Only an infusion is completed this way.", field="status", code="route")
    if administration.state != AdministrationState.RUNNING:
        raise Refused(
            f"The infusion is {administration.get_state_display().lower()}; resume or stop it.",
            field="status",
            code="invalid_change",
        )
    floor = facts.changes[-1].at if facts.changes else administration.started_at
    moment = _event_time(session, stopped_at, "stopped_at", not_before=floor)
    if administration.volume_ml is None or administration.rate_ml_per_h is None:
        invariant("an infusion order has a volume and a rate")  # pragma: no cover
    check = check_infusion_complete(
        facts.protocol.monitoring,
        started_at=administration.started_at,
        rate_ml_per_h=administration.rate_ml_per_h,
        volume_ml=administration.volume_ml,
        changes=facts.rate_changes,
        stopped_at=moment,
        volume_infused_ml=volume_infused_ml,
    )
    if not check.allowed:
        raise Refused(
            check.reason[:1].upper() + check.reason[1:] + ".",
            field="volume_infused_ml" if volume_infused_ml is not None else "stopped_at",
            code=check.code,
        )
    if volume_infused_ml is not None:
        administration.volume_infused_ml = volume_infused_ml
        administration.save(update_fields=["volume_infused_ml"])
    _end_dosing(actor, session, administration, AdministrationState.COMPLETED, moment)
    _audit(actor, AuditAction.UPDATE, "administration", administration.pk, session, {"done": True})
    _settle(actor, idempotency_key, session, administration.pk)
    return administration
