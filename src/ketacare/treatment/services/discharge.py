"""Discharge and cancelling a session."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.accounts.reauth import reauth_require
from ketacare.audit.models import AuditAction
from ketacare.clinical.monitoring import discharge_check
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.scheduling.models import AppointmentStatus
from ketacare.scheduling.selectors import clinic_zone
from ketacare.treatment.models import (
    Discharge,
    DoseOrder,
    DoseOrderStatus,
    MonitoringEntry,
    MonitoringPhase,
    TreatmentSession,
)
from ketacare.treatment.plans import protocol_of
from ketacare.treatment.services.steps import (
    S,
    _audit,
    _begin_versioned_step,
    _event_time,
    _live_order,
    _move,
    _set_appointment,
    _settle,
    _text,
)

# --- discharge and cancelling -------------------------------------------------------------------


def unanswered_alarms(entries: Sequence[MonitoringEntry]) -> list[MonitoringEntry]:
    """Readings whose alarm has no recorded action (pre-dose start limits aside)."""
    return [e for e in entries if e.phase != MonitoringPhase.PRE_DOSE and e.alarms and not e.action]


@transaction.atomic
def discharge_record(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    criteria: Mapping[str, bool],
    escort_name: str = "",
    ready_at: datetime | None = None,
    override_reason: str = "",
) -> Discharge:
    """Discharge after the minimum observation with every criterion met, per the core.

    Earlier, with a criterion unmet, or with an alarm nobody answered, only a prescriber may
    discharge, recording why. The clinician re-authenticates (password or signing PIN).
    """
    reauth_require(actor, what="the discharge")
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "discharge",
        Discharge,
        version=version,
        target=S.DISCHARGED,
    )
    if replayed is not None:
        return replayed
    if session.dosing_ended_at is None:  # pragma: no cover - observation follows dosing
        raise Refused("Dosing has not ended.", field="status", code="not_ended")
    protocol = protocol_of(session)
    now = clock.now()
    check = discharge_check(protocol, session.dosing_ended_at, now, dict(criteria))
    silent = unanswered_alarms(
        list(MonitoringEntry.objects.filter(session=session, entered_in_error_at__isnull=True))
    )
    problems = [check.reason] if not check.may_discharge else []
    if silent:
        zone = clinic_zone(session.clinic)
        problems.append(
            "no action recorded for the alarm at "
            + ", ".join(f"{e.taken_at.astimezone(zone):%H:%M}" for e in silent)
        )
    reason = _text(override_reason, "override_reason", required=False)
    override_by = None
    if problems:
        if not reason:
            raise Refused(
                "Discharge refused: " + "; ".join(problems) + ".",
                field="criteria" if not check.remaining_minutes else "discharged_at",
                code="discharge_refused",
            )
        if not actor.can(Permission.CLINICAL_DECISION):
            raise Refused(
                "Discharge refused: "
                + "; ".join(problems)
                + ". Only a prescriber may discharge early, recording why.",
                field="override_reason",
                code="override_needs_prescriber",
            )
        override_by = actor.user
    else:
        reason = ""
    if protocol.route == "esketamine" and ready_at is None:
        raise Refused(
            "Record when the patient was clinically ready (the REMS monitoring form asks).",
            field="ready_at",
            code="required",
        )
    if ready_at is not None:
        _event_time(session, ready_at, "ready_at", not_before=session.dosing_started_at)
    discharge = Discharge.objects.create(
        clinic=actor.clinic,
        session=session,
        criteria={
            name: bool(criteria.get(name)) for name in protocol.monitoring.discharge_criteria
        },
        discharge_check={
            "may_discharge": check.may_discharge,
            "remaining_minutes": check.remaining_minutes,
            "unmet_criteria": check.unmet_criteria,
            "reason": check.reason,
            "unanswered_alarm_ids": [e.pk for e in silent],
        },
        escort_name=_text(escort_name, "escort_name", required=False),
        ready_at=ready_at,
        observed_minutes=int((now - session.dosing_ended_at).total_seconds() // 60),
        discharged_by=actor.user,
        discharged_at=now,
        override_reason=reason,
        override_by=override_by,
    )
    _move(session, S.DISCHARGED, discharged_at=now)
    _set_appointment(actor, session, AppointmentStatus.COMPLETED)
    _audit(
        actor,
        AuditAction.SIGN if override_by else AuditAction.CREATE,
        "discharge",
        discharge.pk,
        session,
        {"override": bool(override_by), "unmet": check.unmet_criteria},
    )
    _settle(actor, idempotency_key, session, discharge.pk)
    return discharge


@transaction.atomic
def session_cancel(
    *, actor: Actor, session_id: int, version: int, idempotency_key: str, reason: str
) -> TreatmentSession:
    """End a session before any dose is given, with the reason (e.g. the patient left)."""
    session, replayed = _begin_versioned_step(
        actor,
        Permission.SESSION_RUN,
        session_id,
        idempotency_key,
        "cancel",
        TreatmentSession,
        version=version,
        target=S.CANCELLED,
    )
    if replayed is not None:
        return replayed
    text = _text(reason, "reason")
    live = _live_order(session)
    if live is not None:
        DoseOrder.objects.filter(pk=live.pk).update(
            status=DoseOrderStatus.REJECTED,
            rejected_by=actor.user,
            rejected_at=clock.now(),
            rejection_reason=f"Session cancelled: {text}",
        )
    _move(session, S.CANCELLED, cancelled_at=clock.now(), cancel_reason=text)
    _set_appointment(actor, session, AppointmentStatus.NOT_DOSED)
    _audit(actor, AuditAction.UPDATE, "treatment_session", session.pk, session, {"cancelled": True})
    _settle(actor, idempotency_key, session, session.pk)
    return session
