"""Factories for outcomes tests: scored responses, questionnaires, portal links, alerts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from ketacare.clinical.instruments import score
from ketacare.followup.portal import IssuedLink, portal_link_issue
from ketacare.outcomes.models import (
    AssignmentTrigger,
    PortalLinkPurpose,
    QuestionnaireAssignment,
    ResponseSource,
    SafetyAlert,
    ScaleResponse,
)
from ketacare.outcomes.services import scale_response_record
from ketacare.patients.models import Patient


def phq9_answers(total: int, *, item9: int = 0) -> list[int]:
    """Nine PHQ-9 answers adding up to `total`, with item 9 as given."""
    rest = total - item9
    assert 0 <= rest <= 24, total
    answers = []
    for _ in range(8):
        step = min(3, rest)
        answers.append(step)
        rest -= step
    return [*answers, item9]


def response_row(
    patient: Patient,
    instrument_id: str,
    answers: Sequence[int | bool],
    at: datetime,
    *,
    source: str = ResponseSource.STAFF,
) -> ScaleResponse:
    """A scored response stored directly (no alerts opened), for histories and charts."""
    result = score(instrument_id, answers)
    return ScaleResponse.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        instrument_id=instrument_id,
        answers=list(result.item_scores),
        total=result.total,
        band=result.band,
        alerts=list(result.alerts),
        source=source,
        recorded_at=at,
    )


def assignment_row(
    patient: Patient,
    instrument_id: str = "phq9",
    *,
    opens_at: datetime | None = None,
    due_by: datetime | None = None,
    slot: str | None = None,
    trigger: str = AssignmentTrigger.MANUAL,
    **extra: Any,
) -> QuestionnaireAssignment:
    """A pending questionnaire for the patient, open now for three days unless told."""
    opens_at = opens_at or timezone.now() - timedelta(minutes=5)
    return QuestionnaireAssignment.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        instrument_id=instrument_id,
        trigger=trigger,
        slot=slot or f"test:{uuid.uuid4().hex}",
        opens_at=opens_at,
        due_by=due_by or opens_at + timedelta(days=3),
        **extra,
    )


def link_for(
    patient: Patient,
    assignments: Sequence[QuestionnaireAssignment] = (),
    *,
    purpose: str = PortalLinkPurpose.QUESTIONNAIRES,
    expires_at: datetime | None = None,
) -> IssuedLink:
    """A portal link for the patient's questionnaires (or journal)."""
    now = timezone.now()
    return portal_link_issue(
        actor=None,
        patient=patient,
        purpose=PortalLinkPurpose(purpose),
        assignments=list(assignments),
        channel="email",
        expires_at=expires_at or now + timedelta(days=3),
        now=now,
    )


def suicidality_alert(patient: Patient) -> SafetyAlert:
    """An open alert from a PHQ-9 with item 9 above zero, recorded as from the portal."""
    recorded = scale_response_record(
        actor=None,
        patient=patient,
        instrument_id="phq9",
        answers=phq9_answers(14, item9=1),
        source=ResponseSource.PORTAL,
    )
    return recorded.alerts[0]
