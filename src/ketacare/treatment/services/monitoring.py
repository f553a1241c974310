"""Monitoring readings, alarm actions and adverse events."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.clinical.monitoring import VitalReading, check_vitals
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.treatment import rules, states
from ketacare.treatment.models import (
    AdverseEvent,
    AdverseEventKind,
    AdverseEventOutcome,
    AdverseEventSeverity,
    Dissociation,
    InfusionChangeKind,
    MonitoringAction,
    MonitoringEntry,
    MonitoringPhase,
    TreatmentSession,
)
from ketacare.treatment.plans import protocol_of
from ketacare.treatment.services.administration import _apply_change
from ketacare.treatment.services.steps import _audit, _begin_step, _event_time, _settle, _text

# --- monitoring ---------------------------------------------------------------------------------


def _phase(session: TreatmentSession, moment: datetime) -> str:
    if session.dosing_started_at is None or moment < session.dosing_started_at:
        return MonitoringPhase.PRE_DOSE
    if session.dosing_ended_at is None or moment < session.dosing_ended_at:
        return MonitoringPhase.DOSING
    return MonitoringPhase.OBSERVATION


def _reading(
    actor: Actor,
    session: TreatmentSession,
    *,
    taken_at: datetime,
    values: Mapping[str, int | None],
    dissociation: str = "",
    respiratory_depression: bool = False,
    note: str = "",
) -> MonitoringEntry:
    """Store a reading with the alarms the core raises for it, given the readings before it."""
    protocol = protocol_of(session)
    earlier = list(
        MonitoringEntry.objects.filter(
            session=session, taken_at__lte=taken_at, entered_in_error_at__isnull=True
        ).order_by("taken_at", "id")
    )
    reading = VitalReading(
        taken_at=taken_at,
        systolic=values.get("systolic"),
        diastolic=values.get("diastolic"),
        heart_rate=values.get("heart_rate"),
        spo2=values.get("spo2"),
        moaas=values.get("moaas"),
    )
    history = [
        VitalReading(e.taken_at, e.systolic, e.diastolic, e.heart_rate, e.spo2, e.moaas)
        for e in earlier
    ]
    alarms = [
        {"code": a.code, "message": a.message, "action": a.action}
        for a in check_vitals(protocol, history, reading)
    ]
    phase = _phase(session, taken_at)
    if phase == MonitoringPhase.PRE_DOSE and reading.systolic and reading.diastolic:
        start = rules.start_vitals_alarm(protocol, reading.systolic, reading.diastolic)
        if start is not None:
            alarms.insert(0, start)
    return MonitoringEntry.objects.create(
        clinic=actor.clinic,
        session=session,
        phase=phase,
        taken_at=taken_at,
        dissociation=dissociation,
        respiratory_depression=respiratory_depression,
        note=note,
        alarms=alarms,
        recorded_by=actor.user,
        recorded_at=clock.now(),
        **{k: v for k, v in values.items() if v is not None},
    )


@transaction.atomic
def monitoring_entry_record(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    taken_at: datetime | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    heart_rate: int | None = None,
    spo2: int | None = None,
    moaas: int | None = None,
    dissociation: str = "",
    respiratory_depression: bool = False,
    note: str = "",
) -> MonitoringEntry:
    """Add a reading to the timeline; the core flags values outside the protocol's limits."""
    session, replayed = _begin_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "monitoring_entry",
        MonitoringEntry,
    )
    if replayed is not None:
        return replayed
    states.ensure_status_in(session.status, states.OPEN_FOR_READINGS, "add a reading")
    values = {
        "systolic": systolic,
        "diastolic": diastolic,
        "heart_rate": heart_rate,
        "spo2": spo2,
        "moaas": moaas,
    }
    text = _text(note, "note", required=False)
    if (systolic is None) != (diastolic is None):
        raise Refused(
            "Give both systolic and diastolic pressure.",
            field="diastolic" if diastolic is None else "systolic",
            code="incomplete_bp",
        )
    if dissociation and dissociation not in Dissociation.values:
        raise Refused("Choose a dissociation level.", field="dissociation", code="choice")
    if all(v is None for v in values.values()) and not dissociation and not text:
        raise Refused("Enter at least one observation.", field="systolic", code="empty")
    moment = _event_time(session, taken_at, "taken_at", not_before=session.checked_in_at)
    entry = _reading(
        actor,
        session,
        taken_at=moment,
        values=values,
        dissociation=dissociation,
        respiratory_depression=respiratory_depression,
        note=text,
    )
    _audit(
        actor,
        AuditAction.CREATE,
        "monitoring_entry",
        entry.pk,
        session,
        {"alarms": [a["code"] for a in entry.alarms]},
    )
    _settle(actor, idempotency_key, session, entry.pk)
    return entry


@transaction.atomic
def monitoring_action_record(
    *,
    actor: Actor,
    session_id: int,
    monitoring_entry_id: int,
    idempotency_key: str,
    action: str,
    note: str = "",
    rate_ml_per_h: Decimal | None = None,
) -> MonitoringEntry:
    """Record what was done about an out-of-limit reading; pausing, slowing or stopping does it."""
    session, replayed = _begin_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "monitoring_action",
        MonitoringEntry,
    )
    if replayed is not None:
        return replayed
    entry = MonitoringEntry.objects.filter(pk=monitoring_entry_id, session=session).first()
    if entry is None:
        raise Http404("Monitoring entry not found.")
    if not entry.alarms:
        raise Refused("This reading raised no alarm.", field="action", code="no_alarm")
    if entry.action:
        raise Conflict(
            f"{entry.get_action_display()} was already recorded for this reading.",
            field="action",
            code="already_recorded",
        )
    if action not in MonitoringAction.values:
        raise Refused("Choose what was done.", field="action", code="choice")
    text = _text(note, "note", required=action == MonitoringAction.OTHER)
    change_kind = {
        MonitoringAction.PAUSED: InfusionChangeKind.PAUSE,
        MonitoringAction.SLOWED: InfusionChangeKind.SLOW,
        MonitoringAction.STOPPED: InfusionChangeKind.STOP,
    }.get(MonitoringAction(action))
    if change_kind is not None:
        alarm_text = "; ".join(a["message"] for a in entry.alarms)
        _apply_change(
            actor,
            session,
            kind=change_kind,
            reason=f"{alarm_text}. {text}".strip(),
            rate_ml_per_h=rate_ml_per_h,
            at=None,
            monitoring_entry_id=entry.pk,
        )
    entry.action = action
    entry.action_note = text
    entry.action_by = actor.user
    entry.action_at = clock.now()
    entry.save(update_fields=["action", "action_note", "action_by", "action_at"])
    _audit(actor, AuditAction.UPDATE, "monitoring_entry", entry.pk, session, {"action": action})
    _settle(actor, idempotency_key, session, entry.pk)
    return entry


# --- adverse events -----------------------------------------------------------------------------


@transaction.atomic
def adverse_event_record(
    *,
    actor: Actor,
    session_id: int,
    idempotency_key: str,
    kind: str,
    severity: str,
    outcome: str,
    onset_at: datetime | None = None,
    description: str = "",
    intervention: str = "",
) -> AdverseEvent:
    """Record an adverse event: what, how severe, when, what was done and how it ended."""
    session, replayed = _begin_step(
        actor, Permission.SESSION_RUN, session_id, idempotency_key, "adverse_event", AdverseEvent
    )
    if replayed is not None:
        return replayed
    states.ensure_status_in(
        session.status, states.OPEN_FOR_ADVERSE_EVENTS, "record an adverse event"
    )
    for value, choices, field in (
        (kind, AdverseEventKind, "kind"),
        (severity, AdverseEventSeverity, "severity"),
        (outcome, AdverseEventOutcome, "outcome"),
    ):
        if value not in choices.values:
            raise Refused("Choose one of the options.", field=field, code="choice")
    text = _text(description, "description", required=kind == AdverseEventKind.OTHER)
    moment = _event_time(session, onset_at, "onset_at", not_before=session.checked_in_at)
    event = AdverseEvent.objects.create(
        clinic=actor.clinic,
        session=session,
        kind=kind,
        severity=severity,
        onset_at=moment,
        description=text,
        intervention=_text(intervention, "intervention", required=False),
        outcome=outcome,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    _audit(
        actor,
        AuditAction.CREATE,
        "adverse_event",
        event.pk,
        session,
        {"kind": kind, "severity": severity},
    )
    _settle(actor, idempotency_key, session, event.pk)
    return event
