"""The follow-up API: outcomes, worklists and integration notes. Thin: services do the work."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field, StringConstraints

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.followup import selectors, services
from ketacare.kernel.bounds import BoundedIn
from ketacare.kernel.idempotency import RequiredIdempotencyKey
from ketacare.outcomes.models import IntegrationNote
from ketacare.patients.selectors import patient_get_for_actor

router = Router(tags=["outcomes"])


class OutcomeOut(Schema):
    """One instrument's baseline, latest score and the core's classification."""

    instrument_id: str
    responses: int
    baseline_total: int | None
    latest_total: int | None
    latest_band: str | None
    outcome: str | None


class BoosterOut(Schema):
    """A patient on the 'consider booster' worklist, with the core's evidence."""

    patient_id: int
    course_id: int
    instrument_id: str
    baseline: int
    responded_on: date
    detected_on: date
    evidence: list[tuple[date, int]]
    reason: str


class IntegrationNoteIn(BoundedIn):
    """A therapist's note, on one of the patient's treatment sessions or on its own.

    With `template` "dap" or "birp", `sections` holds each of its sections and `body` is made
    from them; with "free" (the default), `body` is the note.
    """

    model_config = ConfigDict(extra="forbid")

    session_id: int | None = Field(None, ge=1)
    template: Literal["free", "dap", "birp"] = "free"
    sections: dict[str, Annotated[str, StringConstraints(max_length=6000)]] = Field(
        default_factory=dict
    )
    body: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)] = ""
    idempotency_key: RequiredIdempotencyKey


class IntegrationNoteOut(Schema):
    """An integration note."""

    id: int
    patient_id: int
    session_id: int | None
    template: str
    sections: dict[str, str]
    body: str
    entered_in_error_at: datetime | None
    entered_in_error_reason: str
    written_by_id: int
    written_at: datetime


class OverdueOut(Schema):
    """A questionnaire past due and unanswered."""

    id: int
    patient_id: int
    instrument_id: str
    trigger: str
    due_by: datetime


@operation(
    router.get,
    "/patients/{patient_id}/outcomes",
    Permission.QUESTIONNAIRE_VIEW,
    response=list[OutcomeOut],
)
def patient_outcomes(request: HttpRequest, patient_id: int) -> list[dict[str, object]]:
    """Per instrument: baseline, latest, and the core's outcome (response, remission, …)."""
    data = selectors.patient_outcomes(actor=api_actor(request), patient_id=patient_id)
    return [
        {
            "instrument_id": t.instrument.id,
            "responses": len(t.responses),
            "baseline_total": t.baseline.total if t.baseline else None,
            "latest_total": t.latest.total if t.latest else None,
            "latest_band": t.latest.band if t.latest else None,
            "outcome": t.outcome,
        }
        for t in data.trajectories
    ]


@operation(
    router.get, "/questionnaires/overdue", Permission.QUESTIONNAIRE_VIEW, response=list[OverdueOut]
)
def overdue(request: HttpRequest) -> list[object]:
    """Questionnaires past due and unanswered (missed)."""
    return list(selectors.overdue_questionnaires(actor=api_actor(request)))


@operation(router.get, "/boosters", Permission.QUESTIONNAIRE_VIEW, response=list[BoosterOut])
def boosters(request: HttpRequest) -> list[dict[str, object]]:
    """Patients to consider for a booster, with the core's relapse evidence."""
    return [
        {
            "patient_id": c.patient.pk,
            "course_id": c.course.pk,
            "instrument_id": c.instrument.id,
            "baseline": c.baseline,
            "responded_on": c.signal.responded_on,
            "detected_on": c.signal.detected_on,
            "evidence": list(c.signal.evidence),
            "reason": c.signal.reason,
        }
        for c in selectors.booster_worklist(actor=api_actor(request))
    ]


@operation(
    router.get,
    "/patients/{patient_id}/integration-notes",
    Permission.INTEGRATION_NOTE_VIEW,
    response=list[IntegrationNoteOut],
)
def list_integration_notes(request: HttpRequest, patient_id: int) -> list[IntegrationNote]:
    """The patient's integration notes, newest first."""
    actor = api_actor(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.INTEGRATION_NOTE_VIEW
    )
    return selectors.integration_notes_for(actor=actor, patient=patient)


@operation(
    router.post,
    "/patients/{patient_id}/integration-notes",
    Permission.INTEGRATION_NOTE_WRITE,
    response={201: IntegrationNoteOut},
)
def create_integration_note(
    request: HttpRequest, patient_id: int, payload: IntegrationNoteIn
) -> Status[IntegrationNote]:
    """Write an integration note on one of the patient's treatment sessions."""
    actor = api_actor(request)
    patient = patient_get_for_actor(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.INTEGRATION_NOTE_WRITE,
        audit=False,
    )
    note = services.integration_note_write(
        actor=actor,
        patient=patient,
        session_id=payload.session_id,
        body=payload.body,
        idempotency_key=payload.idempotency_key,
        template=payload.template,
        sections=payload.sections,
    )
    return Status(201, note)
