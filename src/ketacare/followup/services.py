"""Writes of follow-up care: questionnaire policy, questionnaires sent now, integration notes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.corrections import entered_in_error_mark
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import InvalidInput
from ketacare.clinical.instruments import (
    get_instrument,
)
from ketacare.errors import Refused
from ketacare.followup.note_templates import NOTE_TEMPLATES, note_body
from ketacare.followup.policy import DEFAULT_POLICY, portal_instruments, resolve_policy
from ketacare.kernel import clock
from ketacare.kernel.idempotency import replayed
from ketacare.kernel.versions import ensure_version
from ketacare.outcomes.models import (
    AssignmentTrigger,
    IntegrationNote,
    QuestionnaireAssignment,
    QuestionnairePolicy,
)
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_lock_for_write
from ketacare.treatment.models import TreatmentSession

logger = logging.getLogger(__name__)


# --- questionnaire policy ---------------------------------------------------------------------


def _why_not_for_patients(instrument_id: str) -> str:
    instrument = get_instrument(instrument_id)
    if instrument.respondent != "patient":
        return f"{instrument_id} is administered by a clinician; it cannot be sent to patients."
    if not instrument.licence.wording_reproduced:
        return (
            f"{instrument_id} cannot be sent to patients: KetaCare does not hold its official "
            "wording, and patients must not answer a scale from item labels."
        )
    return f"{instrument_id} is not an outcome scale the portal sends."


def _checked_instruments(ids: Sequence[str], field: str, *, portal_only: bool) -> list[str]:
    allowed = set(portal_instruments()) if portal_only else None
    checked: list[str] = []
    for instrument_id in ids:
        try:
            get_instrument(instrument_id)
        except InvalidInput as exc:
            raise Refused(exc.message, field=field) from exc
        if allowed is not None and instrument_id not in allowed:
            raise Refused(_why_not_for_patients(instrument_id), field=field)
        if instrument_id not in checked:
            checked.append(instrument_id)
    return checked


@transaction.atomic
def questionnaire_policy_save(
    *, actor: Actor, protocol_id: str, version: int | None, values: dict[str, Any]
) -> QuestionnairePolicy:
    """Set the clinic's (or one protocol's) questionnaire schedule; a stale form is refused."""
    actor.require(Permission.CLINIC_MANAGE)
    fields: dict[str, Any] = {
        "before_session_instruments": _checked_instruments(
            values.get("before_session_instruments", []),
            "before_session_instruments",
            portal_only=False,
        ),
        "during_course_instruments": _checked_instruments(
            values.get("during_course_instruments", []),
            "during_course_instruments",
            portal_only=True,
        ),
        "after_course_instruments": _checked_instruments(
            values.get("after_course_instruments", []),
            "after_course_instruments",
            portal_only=True,
        ),
    }
    for name in (
        "before_session_lead_hours",
        "during_course_every_days",
        "after_course_weekly_count",
        "after_course_monthly_count",
        "window_days",
        "reminder_after_hours",
    ):
        value = values.get(name, getattr(DEFAULT_POLICY, name))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 1000:
            raise Refused("Enter a whole number from 0 to 1000.", field=name)
        fields[name] = value
    for name in ("before_session_lead_hours", "during_course_every_days", "window_days"):
        if fields[name] < 1:
            raise Refused("Must be at least 1.", field=name)
    row = (
        QuestionnairePolicy.objects.select_for_update()
        .filter(clinic_id=actor.clinic_id, protocol_id=protocol_id)
        .first()
    )
    if row is None:
        row = QuestionnairePolicy.objects.create(
            clinic_id=actor.clinic_id, protocol_id=protocol_id, updated_by=actor.user, **fields
        )
        action = AuditAction.CREATE
    else:
        ensure_version("questionnaire policy", seen=version, current=row.version)
        QuestionnairePolicy.objects.filter(pk=row.pk, version=row.version).update(
            version=F("version") + 1, updated_by=actor.user, updated_at=clock.now(), **fields
        )
        row.refresh_from_db()
        action = AuditAction.UPDATE
    audit_record(
        actor=actor,
        action=action,
        object_type="questionnaire_policy",
        object_id=row.pk,
        detail={"protocol_id": protocol_id, **fields},
    )
    return row


@transaction.atomic
def questionnaires_assign_now(
    *,
    actor: Actor,
    patient: Patient,
    instrument_ids: Sequence[str],
    idempotency_key: str,
    now: datetime,
) -> list[QuestionnaireAssignment]:
    """Ask a patient to answer instruments now (staff's choice, outside the schedule).

    The form's idempotency key is the slot, so a double click asks once.
    """
    actor.require(Permission.QUESTIONNAIRE_SEND)
    if patient.clinic_id != actor.clinic_id:
        raise Refused("That patient is not in your clinic.", field="patient_id")
    patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient.pk)
    chosen = _checked_instruments(instrument_ids, "instrument_ids", portal_only=True)
    if not chosen:
        return []
    if not idempotency_key or len(idempotency_key) > 64:
        raise Refused("The form expired; open it again.", field="idempotency_key")
    window = resolve_policy(
        list(QuestionnairePolicy.objects.filter(clinic_id=actor.clinic_id)), ""
    ).window_days
    slot = f"manual:{idempotency_key}"
    QuestionnaireAssignment.objects.bulk_create(
        [
            QuestionnaireAssignment(
                clinic_id=actor.clinic_id,
                patient=patient,
                instrument_id=instrument_id,
                trigger=AssignmentTrigger.MANUAL,
                slot=slot,
                opens_at=now,
                due_by=now + timedelta(days=window),
                created_by=actor.user,
            )
            for instrument_id in chosen
        ],
        ignore_conflicts=True,
    )
    assignments = list(
        QuestionnaireAssignment.objects.filter(
            clinic_id=actor.clinic_id, patient=patient, slot=slot
        ).order_by("id")
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="questionnaire_assignment",
        object_id=",".join(str(a.pk) for a in assignments),
        patient_id=patient.pk,
        detail={"instrument_ids": chosen, "slot": slot},
    )
    return assignments


# --- integration therapy ----------------------------------------------------------------------


@transaction.atomic
def integration_note_write(
    *,
    actor: Actor,
    patient: Patient,
    session_id: int | None,
    body: str,
    idempotency_key: str,
    template: str = "free",
    sections: dict[str, str] | None = None,
) -> IntegrationNote:
    """Record a therapist's integration note, on one of the patient's sessions or on its own.

    A template (DAP, BIRP) asks for every one of its sections; the note's text is made from
    them. A note is never edited (an addendum is a new note); a retried form writes it once.
    """
    actor.require(Permission.INTEGRATION_NOTE_WRITE)
    if patient.clinic_id != actor.clinic_id:
        raise Refused("That patient is not in your clinic.", field="patient_id")
    patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient.pk)
    spec = NOTE_TEMPLATES.get(template)
    if spec is None:
        raise Refused("Choose one of the note templates.", field="template", code="choice")
    sections = {key: (sections or {}).get(key, "").strip() for key, _ in spec.sections}
    for key, label in spec.sections:
        if not sections[key]:
            raise Refused(f"Write the {label.lower()} section.", field=key)
    body = note_body(spec, sections, body)
    body = body.strip()
    if len(body) < 3:
        raise Refused("Write the note before saving it.", field="body")
    if len(body) > 20000:
        raise Refused("A note is at most 20,000 characters.", field="body")
    if not idempotency_key or len(idempotency_key) > 64:
        raise Refused("The form expired; open it again.", field="idempotency_key")
    existing = replayed(
        IntegrationNote,
        clinic_id=actor.clinic_id,
        key=idempotency_key,
        same=lambda row: row.patient_id == patient.pk,
        what="another patient",
    )
    if existing is not None:
        return existing
    session = None
    if session_id:
        session = TreatmentSession.objects.filter(
            pk=session_id, clinic_id=actor.clinic_id, patient=patient
        ).first()
        if session is None:
            raise Refused("Choose one of this patient's treatment sessions.", field="session_id")
    note = IntegrationNote.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        session=session,
        template=template,
        sections=sections,
        body=body,
        written_by=actor.user,
        written_at=clock.now(),
        idempotency_key=idempotency_key,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="integration_note",
        object_id=note.pk,
        patient_id=patient.pk,
        detail={
            "session_id": session.pk if session else None,
            "template": template,
            "chars": len(body),
        },
    )
    return note


@transaction.atomic
def integration_note_enter_in_error(
    *, actor: Actor, patient: Patient, note_id: int, reason: str
) -> IntegrationNote:
    """Mark a note entered in error (wrong patient, wrong session): kept, with the reason."""
    actor.require(Permission.INTEGRATION_NOTE_WRITE)
    patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient.pk)
    note = IntegrationNote.objects.filter(
        pk=note_id, clinic_id=actor.clinic_id, patient=patient
    ).first()
    if note is None:
        raise Http404("Note not found.")
    entered_in_error_mark(
        actor=actor,
        model=IntegrationNote,
        pk=note.pk,
        object_type="integration_note",
        patient_id=patient.pk,
        reason=reason,
    )
    note.refresh_from_db()
    return note
