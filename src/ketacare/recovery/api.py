"""The recovery API: a patient's misuse signals, and Part 2 records with their notice."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import misuse as core
from ketacare.clinical import recovery as rules
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.recovery import selectors
from ketacare.recovery.facts import misuse_facts_for
from ketacare.recovery.schemas import Part2RecordsOut, SignalsOut
from ketacare.recovery.services.common import today_of
from ketacare.recovery.services.review import signal_json

router = Router(tags=["recovery"])


@operation(
    router.get,
    "/recovery/patients/{patient_id}/signals",
    Permission.RECOVERY_VIEW,
    response=SignalsOut,
)
def signals(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """The patient's misuse and dependence signals now, each with its evidence."""
    actor = api_actor(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.RECOVERY_VIEW
    )
    assessment = core.assess(misuse_facts_for(patient=patient, today=today_of(actor)))
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="misuse_signals",
        object_id=patient.pk,
        patient_id=patient.pk,
    )
    return {
        "patient_id": patient.pk,
        "signals": [signal_json(s) for s in assessment.signals],
        "severe": assessment.severe,
        "severe_reasons": list(assessment.severe_reasons),
        "not_checked": list(assessment.not_checked),
    }


@operation(
    router.get,
    "/recovery/patients/{patient_id}/part2",
    Permission.PART2_VIEW,
    response=Part2RecordsOut,
)
def part2_records(request: HttpRequest, response: HttpResponse, patient_id: int) -> dict[str, Any]:
    """The patient's Part 2 programme records, with the notice against redisclosure (also in
    the `X-Redisclosure-Notice` header)."""
    actor = api_actor(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.PART2_VIEW
    )
    programme = selectors.programme_of(patient=patient)
    view = (
        selectors.programme_view(programme=programme, today=today_of(actor)) if programme else None
    )
    records = selectors.part2_records_of(patient=patient)
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="part2_records",
        object_id=patient.pk,
        patient_id=patient.pk,
        detail={"part2": True},
    )
    response["X-Redisclosure-Notice"] = rules.REDISCLOSURE_NOTICE
    return {
        "patient_id": patient.pk,
        "redisclosure_notice": rules.REDISCLOSURE_NOTICE,
        "redisclosure_notice_full": rules.REDISCLOSURE_NOTICE_FULL,
        "programme_substance": programme.substance if programme else None,
        "programme_started_on": programme.started_on if programme else None,
        "use_days": [
            {"day": d.day, "used": d.used, "amount": d.amount} for d in records.get("use_days", [])
        ],
        "withdrawal_checks": [
            {"recorded_at": w.recorded_at, "total": w.total, "alert": w.alert}
            for w in (view.withdrawal if view else [])
        ],
    }
