"""Writes of measurement-based care: scored responses and safety alerts.

Scoring, alert codes, and deterioration sizes are the core's (`ketacare.clinical`); this module
stores what the core computed and opens alerts in the same transaction as the response, so an
alert can never be lost between the two."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Membership
from ketacare.accounts.permissions import PERMISSION_TABLE, Permission
from ketacare.audit.corrections import entered_in_error_mark
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.alerts import urgency
from ketacare.clinical.instruments import (
    ALERT_CSSRS_HIGH,
    ALERT_CSSRS_MODERATE,
    ALERT_SUICIDALITY,
    get_instrument,
    score,
)
from ketacare.clinical.outcomes import ALERT_DETERIORATION, deterioration, load_outcome_rules
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.kernel.idempotency import replayed
from ketacare.kernel.versions import ensure_version, stale_version
from ketacare.outcomes.models import (
    AlertSeverity,
    AlertStatus,
    AssignmentStatus,
    PortalLink,
    PortalLinkPurpose,
    QuestionnaireAssignment,
    ResponseSource,
    SafetyAlert,
    ScaleResponse,
)
from ketacare.outcomes.tasks import alert_notify_staff
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_lock_for_write

logger = logging.getLogger(__name__)

# The codes that open a safety alert for the clinic's worklist (a chair-side alarm such as deep
# sedation is answered at the chair instead). How fast each needs a person is the core's
# (`clinical.alerts.urgency`), and so is the worklist's order (`clinical.alerts.rank`).
SAFETY_ALERT_CODES = frozenset(
    {ALERT_CSSRS_HIGH, ALERT_SUICIDALITY, ALERT_CSSRS_MODERATE, ALERT_DETERIORATION}
)


def alert_severity(code: str) -> AlertSeverity:
    """The stored urgency of an alert code: the core's, never a second table here."""
    return AlertSeverity(urgency(code))


PORTAL_USERNAME = "patient-portal"


@dataclass(frozen=True)
class RecordedResponse:
    """A stored response, the alerts it opened, and whether this call created it."""

    response: ScaleResponse
    alerts: list[SafetyAlert]
    created: bool


# --- responses --------------------------------------------------------------------------------


@transaction.atomic
def scale_response_record(
    *,
    actor: Actor | None,
    patient: Patient,
    instrument_id: str,
    answers: Sequence[int | bool | None],
    source: ResponseSource | str,
    recorded_at: datetime | None = None,
    idempotency_key: str = "",
    client_address: str | None = None,
) -> RecordedResponse:
    """Score answers with the core, store the response, complete the patient's open requests
    for that instrument, and open any safety alert, all in one transaction.

    Staff need `chart.edit`; the portal passes no actor (the link was checked by the caller).
    The same idempotency key answers with the first response instead of recording twice.
    """
    if actor is not None:
        actor.require(Permission.CHART_EDIT)
        if patient.clinic_id != actor.clinic_id:
            raise Refused("That patient is not in your clinic.", field="patient_id")
    patient_lock_for_write(clinic_id=patient.clinic_id, patient_id=patient.pk)
    existing = _recorded_earlier(patient, instrument_id, idempotency_key)
    if existing is not None:
        return existing
    result = score(instrument_id, answers)
    recorded_at = recorded_at or clock.now()
    try:
        with transaction.atomic():
            response = ScaleResponse.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                instrument_id=result.instrument_id,
                answers=list(result.item_scores),
                total=result.total,
                band=result.band,
                alerts=list(result.alerts),
                source=str(source),
                recorded_at=recorded_at,
                entered_by=actor.user if actor else None,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:  # the same key raced in from a second request
        existing = _recorded_earlier(patient, instrument_id, idempotency_key)
        if existing is None:
            raise
        return existing
    audit_patient_write(
        actor,
        patient,
        AuditAction.CREATE,
        "scale_response",
        response.pk,
        {"instrument_id": response.instrument_id, "total": response.total, "source": str(source)},
        client_address,
    )
    _assignments_complete(response=response, now=recorded_at)
    alerts = alerts_raise_for_response(actor=actor, response=response)
    return RecordedResponse(response=response, alerts=alerts, created=True)


def _recorded_earlier(patient: Patient, instrument_id: str, key: str) -> RecordedResponse | None:
    """The response an earlier submission with this key recorded, with its alerts, or None."""
    existing = replayed(
        ScaleResponse,
        clinic_id=patient.clinic_id,
        key=key,
        same=lambda row: row.patient_id == patient.pk and row.instrument_id == instrument_id,
    )
    if existing is None:
        return None
    alerts = list(SafetyAlert.objects.filter(response=existing).order_by("id"))
    return RecordedResponse(response=existing, alerts=alerts, created=False)


def _assignments_complete(*, response: ScaleResponse, now: datetime) -> None:
    """One answer satisfies every open request for that instrument; finished links are used."""
    open_requests = QuestionnaireAssignment.objects.filter(
        clinic_id=response.clinic_id,
        patient_id=response.patient_id,
        instrument_id=response.instrument_id,
        status=AssignmentStatus.PENDING,
        opens_at__lte=response.recorded_at,
    )
    ids = list(open_requests.values_list("id", flat=True))
    if not ids:
        return
    QuestionnaireAssignment.objects.filter(id__in=ids, status=AssignmentStatus.PENDING).update(
        status=AssignmentStatus.COMPLETED, completed_at=now, response=response
    )
    links_mark_used_when_done(assignment_ids=ids, now=now)


def links_mark_used_when_done(*, assignment_ids: Sequence[int], now: datetime) -> None:
    """Mark questionnaire links used once none of their questionnaires is pending."""
    candidates = PortalLink.objects.filter(
        assignments__id__in=assignment_ids,
        purpose=PortalLinkPurpose.QUESTIONNAIRES,
        used_at__isnull=True,
    ).distinct()
    finished = candidates.exclude(assignments__status=AssignmentStatus.PENDING)
    PortalLink.objects.filter(pk__in=list(finished.values_list("pk", flat=True))).update(
        used_at=now
    )


# --- safety alerts ----------------------------------------------------------------------------


@transaction.atomic
def alerts_raise_for_response(
    *, actor: Actor | None = None, response: ScaleResponse
) -> list[SafetyAlert]:
    """Open a safety alert for each safety code the scored response carries (suicidality item,
    C-SSRS moderate or high) and for a large deterioration since the previous score.

    Call it inside the transaction that stores the response (it joins it), so the alert is
    written with the response or not at all. Calling it twice for one response opens nothing
    new. The staff e-mail goes out from the worker after commit.
    """
    instrument = get_instrument(response.instrument_id)
    wanted: list[tuple[str, str, dict[str, Any]]] = []
    for rule in instrument.alerts:
        if rule.code in response.alerts and rule.code in SAFETY_ALERT_CODES:
            if any(code == rule.code for code, _, _ in wanted):
                continue
            evidence = {
                "response_ids": [response.pk],
                "instrument_id": response.instrument_id,
                "total": response.total,
                "band": response.band,
            }
            if rule.item is not None:
                evidence["item"] = rule.item
                evidence["item_answer"] = response.answers[rule.item - 1]
            wanted.append((rule.code, rule.meaning, evidence))
    previous = _previous_response(response)
    if previous is not None and deterioration(
        response.instrument_id, previous.total, response.total
    ):
        threshold = load_outcome_rules().deterioration[response.instrument_id]
        meaning = (
            f"{instrument.short_name} rose {response.total - previous.total} points since the "
            f"previous score ({previous.total} → {response.total}); the core raises this at a "
            f"rise of {threshold.min_rise} or more ({threshold.citation.render()})."
        )
        evidence = {
            "response_ids": [previous.pk, response.pk],
            "instrument_id": response.instrument_id,
            "totals": [previous.total, response.total],
            "recorded": [previous.recorded_at.isoformat(), response.recorded_at.isoformat()],
        }
        wanted.append((ALERT_DETERIORATION, meaning, evidence))
    raised: list[SafetyAlert] = []
    for code, meaning, evidence in wanted:
        alert, created = SafetyAlert.objects.get_or_create(
            response=response,
            code=code,
            defaults={
                "clinic_id": response.clinic_id,
                "patient_id": response.patient_id,
                "severity": alert_severity(code),
                "meaning": meaning,
                "evidence": evidence,
                "raised_at": response.recorded_at,
            },
        )
        if not created:
            continue
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="safety_alert",
            object_id=alert.pk,
            patient_id=alert.patient_id,
            clinic_id=alert.clinic_id,
            username="" if actor else PORTAL_USERNAME,
            detail={"code": code, "severity": str(alert.severity), "response_id": response.pk},
        )
        transaction.on_commit(partial(_enqueue_staff_notice, alert.pk))
        raised.append(alert)
    return raised


@transaction.atomic
def alert_raise_for_event(
    *,
    clinic_id: int,
    patient_id: int,
    code: str,
    meaning: str,
    source_key: str,
    source_label: str,
    evidence: dict[str, Any],
    raised_at: datetime,
    username: str = PORTAL_USERNAME,
) -> SafetyAlert | None:
    """Open a safety alert for an event outside questionnaires (a home dose's gate or tracker);
    the core's urgency of the code sets the severity. Once per source and code: None when it
    was already raised. Call it inside the transaction that records the event."""
    alert, created = SafetyAlert.objects.get_or_create(
        clinic_id=clinic_id,
        source_key=source_key,
        code=code,
        defaults={
            "patient_id": patient_id,
            "severity": AlertSeverity(urgency(code)),
            "meaning": meaning,
            "source_label": source_label,
            "evidence": evidence,
            "raised_at": raised_at,
        },
    )
    if not created:
        return None
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="safety_alert",
        object_id=alert.pk,
        patient_id=patient_id,
        clinic_id=clinic_id,
        username=username,
        detail={"code": code, "severity": str(alert.severity), "source": source_key},
    )
    transaction.on_commit(partial(_enqueue_staff_notice, alert.pk))
    return alert


def _previous_response(response: ScaleResponse) -> ScaleResponse | None:
    if response.instrument_id not in load_outcome_rules().deterioration:
        return None
    return (
        ScaleResponse.objects.filter(
            clinic_id=response.clinic_id,
            patient_id=response.patient_id,
            instrument_id=response.instrument_id,
            entered_in_error_at__isnull=True,
        )
        .filter(
            Q(recorded_at__lt=response.recorded_at)
            | Q(recorded_at=response.recorded_at, pk__lt=response.pk)
        )
        .order_by("-recorded_at", "-pk")
        .first()
    )


def _enqueue_staff_notice(alert_id: int) -> None:
    try:
        alert_notify_staff.enqueue(alert_id)
    except Exception:  # the worker's tick notifies any alert still unannounced
        logger.exception("Could not enqueue the staff notice for safety alert %s", alert_id)


def _locked_alert(actor: Actor, alert_id: int, version: int) -> SafetyAlert:
    alert = (
        SafetyAlert.objects.select_for_update()
        .filter(pk=alert_id, clinic_id=actor.clinic_id)
        .first()
    )
    if alert is None:
        raise Http404("Safety alert not found.")
    ensure_version("alert", seen=version, current=alert.version)
    return alert


def _save_alert(actor: Actor, alert: SafetyAlert, version: int, **changes: Any) -> SafetyAlert:
    # The version check and the write are one statement, so two nurses cannot both win.
    updated = SafetyAlert.objects.filter(
        pk=alert.pk, clinic_id=actor.clinic_id, version=version
    ).update(version=F("version") + 1, **changes)
    if updated == 0:
        raise stale_version("alert", seen=version, current=version + 1)
    alert.refresh_from_db()
    return alert


@transaction.atomic
def alert_acknowledge(*, actor: Actor, alert_id: int, version: int) -> SafetyAlert:
    """Say someone has seen an open alert and is taking it on; it leaves the banner."""
    actor.require(Permission.ALERT_MANAGE)
    alert = _locked_alert(actor, alert_id, version)
    if alert.status != AlertStatus.OPEN:
        raise Conflict(
            f"This alert is already {alert.get_status_display().lower()}.", field="status"
        )
    now = clock.now()
    changes: dict[str, Any] = {
        "status": AlertStatus.ACKNOWLEDGED,
        "acknowledged_by": actor.user,
        "acknowledged_at": now,
    }
    if alert.assigned_to_id is None:  # whoever acknowledges owns it until reassigned
        changes.update(assigned_to=actor.user, assigned_at=now)
    alert = _save_alert(actor, alert, version, **changes)
    _audit_alert(actor, alert, "acknowledge", {"from_version": version})
    return alert


@transaction.atomic
def alert_assign(*, actor: Actor, alert_id: int, version: int, assignee_id: int) -> SafetyAlert:
    """Give an unresolved alert to a member of the clinic who may manage alerts."""
    actor.require(Permission.ALERT_MANAGE)
    alert = _locked_alert(actor, alert_id, version)
    if alert.status == AlertStatus.RESOLVED:
        raise Conflict("A resolved alert cannot be reassigned.", field="status")
    allowed_roles = PERMISSION_TABLE[Permission.ALERT_MANAGE]
    member = (
        Membership.objects.filter(
            clinic_id=actor.clinic_id, user_id=assignee_id, is_active=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    if member is None or member.role not in allowed_roles:
        raise Refused(
            "Assign the alert to a member of this clinic who may manage alerts.",
            field="assignee_id",
        )
    alert = _save_alert(actor, alert, version, assigned_to=member.user, assigned_at=clock.now())
    _audit_alert(actor, alert, "assign", {"assignee_id": assignee_id, "from_version": version})
    return alert


@transaction.atomic
def alert_resolve(*, actor: Actor, alert_id: int, version: int, note: str) -> SafetyAlert:
    """Close an acknowledged alert with a note saying what was done."""
    actor.require(Permission.ALERT_MANAGE)
    note = note.strip()
    if len(note) < 3:
        raise Refused("Say what was done: a resolution note is required.", field="note")
    alert = _locked_alert(actor, alert_id, version)
    if alert.status != AlertStatus.ACKNOWLEDGED:
        raise Conflict(
            "Acknowledge the alert before resolving it."
            if alert.status == AlertStatus.OPEN
            else "This alert is already resolved.",
            field="status",
        )
    alert = _save_alert(
        actor,
        alert,
        version,
        status=AlertStatus.RESOLVED,
        resolved_by=actor.user,
        resolved_at=clock.now(),
        resolution_note=note,
    )
    _audit_alert(actor, alert, "resolve", {"from_version": version})
    return alert


def _audit_alert(actor: Actor, alert: SafetyAlert, change: str, detail: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="safety_alert",
        object_id=alert.pk,
        patient_id=alert.patient_id,
        detail={"change": change, "status": str(alert.status), **detail},
    )


def audit_patient_write(
    actor: Actor | None,
    patient: Patient,
    action: AuditAction,
    object_type: str,
    object_id: object,
    detail: dict[str, Any],
    client_address: str | None,
) -> None:
    """Audit a write about a patient, by staff or (no actor) through the patient portal."""
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        username="" if actor else PORTAL_USERNAME,
        client_address=client_address,
        detail=detail,
    )


@transaction.atomic
def scale_response_enter_in_error(*, actor: Actor, response_id: int, reason: str) -> ScaleResponse:
    """Mark a questionnaire response entered in error: kept with its reason, no longer counted.

    Its score leaves trajectories, outcome classification and deterioration checks; a safety
    alert it raised stays open until someone resolves it (an alert is never dropped silently).
    """
    actor.require(Permission.CHART_EDIT)
    response = ScaleResponse.objects.filter(pk=response_id, clinic_id=actor.clinic_id).first()
    if response is None:
        raise Http404("Questionnaire response not found.")
    entered_in_error_mark(
        actor=actor,
        model=ScaleResponse,
        pk=response.pk,
        object_type="scale_response",
        patient_id=response.patient_id,
        reason=reason,
        detail={"instrument_id": response.instrument_id, "total": response.total},
    )
    response.refresh_from_db()
    return response
