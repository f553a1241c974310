"""Safety review: the core's misuse assessment stored, prescribers' decisions, drug screens and
session requests the clinic records."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date
from typing import Any

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.athome.selectors import active_programme_of
from ketacare.athome.services import programme_status_change
from ketacare.audit.models import AuditAction
from ketacare.clinical import misuse as core
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.idempotency import ensure_key, replayed
from ketacare.patients.models import Patient
from ketacare.recovery.alerts import event_alert_raise
from ketacare.recovery.facts import misuse_facts_for
from ketacare.recovery.models import (
    DecisionChoices,
    DrugScreen,
    MisuseDecision,
    MisuseReview,
    ScreenResult,
    ScreenSubstance,
    SessionRequest,
    SessionRequestKind,
)
from ketacare.recovery.services.common import audit, not_future, patient_of, text, today_of


def signal_json(signal: core.Signal) -> dict[str, Any]:
    """A signal as stored on the review: evidence, rule and citation as plain data."""
    return {
        "id": signal.id,
        "label": signal.label,
        "rule": signal.rule,
        "corroborated_by": list(signal.corroborated_by),
        "citation": signal.citation.render(),
        "evidence": [{**asdict(fact), "on": fact.on.isoformat()} for fact in signal.evidence],
    }


def _fingerprint(signals: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(signals, sort_keys=True).encode()).hexdigest()


def misuse_review_refresh(*, actor: Actor | None, patient: Patient, today: date) -> MisuseReview:
    """Assess the patient from today's facts; store a review when the signals changed, and open
    a safety alert when a severe combination is new. Returns the current review."""
    with transaction.atomic():
        facts = misuse_facts_for(patient=patient, today=today)
        assessment = core.assess(facts)
        signals = [signal_json(s) for s in assessment.signals]
        fingerprint = _fingerprint(signals)
        latest: MisuseReview | None = (
            MisuseReview.objects.filter(clinic_id=patient.clinic_id, patient=patient)
            .order_by("-assessed_at", "-id")
            .first()
        )
        if latest is not None and latest.fingerprint == fingerprint:
            return latest
        now = clock.now()
        alert_id = None
        if assessment.severe and not (latest is not None and latest.severe):
            alert = event_alert_raise(
                clinic_id=patient.clinic_id,
                patient_id=patient.pk,
                code=core.ALERT_MISUSE_SEVERE,
                meaning="Misuse and dependence signals in a severe combination: "
                + "; ".join(assessment.severe_reasons)
                + " (policy default; a prescriber reviews the same day).",
                source_key=f"misuse:{patient.pk}:{fingerprint[:16]}",
                source_label="Misuse and dependence signals",
                evidence={"signals": signals},
                raised_at=now,
                username=actor.user.username if actor else "ketacare-worker",
            )
            alert_id = alert
        review = MisuseReview.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            assessed_at=now,
            signals=signals,
            signal_ids=[s["id"] for s in signals],
            severe=assessment.severe,
            severe_reasons=list(assessment.severe_reasons),
            not_checked=list(assessment.not_checked),
            fingerprint=fingerprint,
            safety_alert_id=alert_id,
        )
        audit(
            actor,
            AuditAction.CREATE,
            "misuse_review",
            review.pk,
            patient,
            {"signals": review.signal_ids, "severe": review.severe},
            **({} if actor else {"username": "ketacare-worker"}),
        )
        return review


def misuse_decision_record(
    *, actor: Actor, patient_id: int, decision: str, reason: str, idempotency_key: str
) -> MisuseDecision:
    """The prescriber's decision on the patient's current review, with a reason (append-only)."""
    actor.require(Permission.RECOVERY_DECIDE)
    key = ensure_key(idempotency_key)
    patient = patient_of(actor, patient_id)
    earlier = replayed(
        MisuseDecision,
        clinic_id=actor.clinic_id,
        key=key,
        same=lambda row: row.patient_id == patient.pk,
    )
    if earlier is not None:
        return earlier
    if decision not in DecisionChoices.values:
        raise Refused("Choose a decision.", field="decision", code="invalid")
    why = text(reason, "reason")
    with transaction.atomic():
        review = misuse_review_refresh(actor=actor, patient=patient, today=today_of(actor))
        if not review.signals:
            raise Refused("There is no signal to decide on.", field="decision", code="no_signal")
        row = MisuseDecision.objects.create(
            clinic_id=actor.clinic_id,
            patient=patient,
            review=review,
            decision=decision,
            reason=why,
            decided_by=actor.user,
            decided_at=clock.now(),
            idempotency_key=key,
        )
        audit(
            actor,
            AuditAction.CREATE,
            "misuse_decision",
            row.pk,
            patient,
            {"decision": decision, "review_id": review.pk, "signals": review.signal_ids},
        )
        _apply_to_home_programme(actor, patient, decision, why)
        return row


# A decision to pause or stop treatment holds the patient's at-home doses too, in the same
# transaction: no home dose is released once the prescriber has decided.
HOME_PROGRAMME_STATUS = {DecisionChoices.PAUSE: "paused", DecisionChoices.STOP: "ended"}


def _apply_to_home_programme(actor: Actor, patient: Patient, decision: str, reason: str) -> None:
    to_status = HOME_PROGRAMME_STATUS.get(DecisionChoices(decision))
    programme = active_programme_of(patient_id=patient.pk)
    if to_status is None or programme is None or programme.status == to_status:
        return
    programme_status_change(
        actor=actor, programme_id=programme.pk, to_status=to_status,
        reason=f"Misuse review decision ({decision}): {reason}", seen_status=programme.status,
    )  # fmt: skip


@transaction.atomic
def drug_screen_record(
    *,
    actor: Actor,
    patient_id: int,
    collected_on: date,
    substance: str,
    result: str,
    confirmed: bool,
    prescribed: bool,
    note: str = "",
    part2: bool = False,
) -> DrugScreen:
    """Record a urine drug screen result for one substance; then reassess the patient."""
    actor.require(Permission.RECOVERY_RECORD)
    patient = patient_of(actor, patient_id)
    if substance not in ScreenSubstance.values:
        raise Refused("Choose a substance.", field="substance", code="invalid")
    if result not in ScreenResult.values:
        raise Refused("Choose a result.", field="result", code="invalid")
    if substance == ScreenSubstance.OTHER and not note.strip():
        raise Refused("Name the substance in the note.", field="note", code="required")
    row = DrugScreen.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        collected_on=not_future(collected_on, "collected_on", actor),
        substance=substance,
        result=result,
        confirmed=confirmed,
        prescribed=prescribed,
        note=text(note, "note", required=False, limit=200),
        part2=part2,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    audit(
        actor,
        AuditAction.CREATE,
        "drug_screen",
        row.pk,
        patient,
        {"substance": substance, "result": result, "part2": part2},
    )
    misuse_review_refresh(actor=actor, patient=patient, today=today_of(actor))
    return row


@transaction.atomic
def session_request_record(
    *, actor: Actor, patient_id: int, kind: str, requested_on: date, note: str = ""
) -> SessionRequest:
    """Note a patient's request for an earlier or an extra session; then reassess."""
    actor.require(Permission.RECOVERY_RECORD)
    patient = patient_of(actor, patient_id)
    if kind not in SessionRequestKind.values:
        raise Refused("Choose what was asked for.", field="kind", code="invalid")
    row = SessionRequest.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        kind=kind,
        requested_on=not_future(requested_on, "requested_on", actor),
        note=text(note, "note", required=False, limit=200),
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    audit(actor, AuditAction.CREATE, "session_request", row.pk, patient, {"kind": kind})
    misuse_review_refresh(actor=actor, patient=patient, today=today_of(actor))
    return row
