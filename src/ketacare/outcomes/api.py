"""The outcomes API: scored responses and safety alerts. Thin: services do the work."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, StringConstraints

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.clinical.instruments import INSTRUMENT_IDS
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.bounds import BoundedIn
from ketacare.kernel.idempotency import IdempotencyKey
from ketacare.outcomes import selectors, services
from ketacare.outcomes.models import ResponseSource, SafetyAlert, ScaleResponse
from ketacare.patients.selectors import patient_get_for_actor

router = Router(tags=["outcomes"])


class ScaleResponseIn(BoundedIn):
    """Answers to one instrument, in item order, entered by staff (e.g. from paper)."""

    model_config = ConfigDict(extra="forbid")

    instrument_id: Annotated[str, StringConstraints(max_length=32)] = Field(
        description=f"One of: {', '.join(INSTRUMENT_IDS)}"
    )
    answers: list[int | bool] = Field(max_length=40)
    recorded_at: datetime | None = Field(
        None, description="When the patient answered (default: now); not in the future."
    )
    idempotency_key: IdempotencyKey = Field(
        "", description="Send the same key when retrying, so the answers are stored once."
    )


class ScaleResponseOut(Schema):
    """A scored response, as the core scored it."""

    id: int
    patient_id: int
    instrument_id: str
    answers: list[int]
    total: int
    band: str
    alerts: list[str]
    source: str
    recorded_at: datetime


class AlertOut(Schema):
    """A safety alert and who has it."""

    id: int
    patient_id: int
    code: str
    severity: str
    meaning: str
    status: str
    response_id: int
    evidence: dict[str, object]
    raised_at: datetime
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    assigned_to_id: int | None
    resolved_by_id: int | None
    resolved_at: datetime | None
    resolution_note: str
    version: int


class RecordedOut(Schema):
    """A stored response and the safety alerts it opened."""

    response: ScaleResponseOut
    alerts: list[AlertOut]


class VersionIn(BoundedIn):
    """The version of the alert you read; a stale one answers 409."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)


class AssignIn(VersionIn):
    """Who should take the alert."""

    assignee_id: int = Field(ge=1)


class ResolveIn(VersionIn):
    """What was done."""

    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=4000)]


class AlertListParams(BoundedIn):
    include_resolved: bool = False


@operation(
    router.get,
    "/patients/{patient_id}/scale-responses",
    Permission.QUESTIONNAIRE_VIEW,
    response=list[ScaleResponseOut],
)
def list_responses(request: HttpRequest, patient_id: int) -> list[ScaleResponse]:
    """Every scored response of the patient, oldest first."""
    return selectors.scale_responses_for(actor=api_actor(request), patient_id=patient_id)


@operation(
    router.post,
    "/patients/{patient_id}/scale-responses",
    Permission.CHART_EDIT,
    response={201: RecordedOut, 200: RecordedOut},
)
def create_response(
    request: HttpRequest, patient_id: int, payload: ScaleResponseIn
) -> Status[dict[str, object]]:
    """Score and store answers; a safety alert opens in the same transaction. A retry with
    the same idempotency key answers 200 with the first response."""
    actor = api_actor(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.CHART_EDIT, audit=False
    )
    if payload.recorded_at is not None and clock.is_future(payload.recorded_at):
        raise Refused("recorded_at cannot be in the future.", field="recorded_at")
    recorded = services.scale_response_record(
        actor=actor,
        patient=patient,
        instrument_id=payload.instrument_id,
        answers=payload.answers,
        source=ResponseSource.STAFF,
        recorded_at=payload.recorded_at,
        idempotency_key=payload.idempotency_key,
        client_address=actor.client_address,
    )
    body = {"response": recorded.response, "alerts": recorded.alerts}
    return Status(201 if recorded.created else 200, body)


@operation(router.get, "/alerts", Permission.ALERT_VIEW, response=list[AlertOut])
def list_alerts(request: HttpRequest, params: Query[AlertListParams]) -> list[SafetyAlert]:
    """Unresolved safety alerts of your clinic (and resolved ones on request)."""
    return selectors.alert_list(actor=api_actor(request), include_resolved=params.include_resolved)


@operation(router.get, "/alerts/{alert_id}", Permission.ALERT_VIEW, response=AlertOut)
def get_alert(request: HttpRequest, alert_id: int) -> SafetyAlert:
    """One safety alert."""
    return selectors.alert_get_for_actor(actor=api_actor(request), alert_id=alert_id)


@operation(
    router.post, "/alerts/{alert_id}/acknowledge", Permission.ALERT_MANAGE, response=AlertOut
)
def acknowledge_alert(request: HttpRequest, alert_id: int, payload: VersionIn) -> SafetyAlert:
    """Acknowledge an open alert; you own it until someone reassigns it."""
    return services.alert_acknowledge(
        actor=api_actor(request), alert_id=alert_id, version=payload.version
    )


@operation(router.post, "/alerts/{alert_id}/assign", Permission.ALERT_MANAGE, response=AlertOut)
def assign_alert(request: HttpRequest, alert_id: int, payload: AssignIn) -> SafetyAlert:
    """Give an unresolved alert to a colleague who may manage alerts."""
    return services.alert_assign(
        actor=api_actor(request),
        alert_id=alert_id,
        version=payload.version,
        assignee_id=payload.assignee_id,
    )


@operation(router.post, "/alerts/{alert_id}/resolve", Permission.ALERT_MANAGE, response=AlertOut)
def resolve_alert(request: HttpRequest, alert_id: int, payload: ResolveIn) -> SafetyAlert:
    """Resolve an acknowledged alert with a note of what was done."""
    return services.alert_resolve(
        actor=api_actor(request), alert_id=alert_id, version=payload.version, note=payload.note
    )
