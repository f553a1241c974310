"""Answered rating scales in FHIR: QuestionnaireResponse."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q

from ketacare.accounts.permissions import Permission
from ketacare.clinical.instruments import load_instruments
from ketacare.fhir import codes as c
from ketacare.fhir.registry import (
    SUBJECT_INCLUDES,
    SUBJECT_PARAMS,
    BuildContext,
    Resource,
    ResourceType,
    SearchParam,
    Source,
    instant,
    meta,
    reference,
    register,
)
from ketacare.fhir.resources.directory import QUESTIONNAIRE_BASE, questionnaire_id
from ketacare.outcomes.models import ScaleResponse


def questionnaire_response_resource(row: ScaleResponse, ctx: BuildContext) -> Resource:
    """The answers of a completed rating scale, item by item."""
    instrument = load_instruments()[row.instrument_id]
    answers = row.answers if isinstance(row.answers, list) else []
    items = []
    for item, answer in zip(instrument.items, answers, strict=False):
        if answer is None:
            continue
        value: dict[str, Any] = (
            {"valueBoolean": bool(answer)}
            if instrument.answer_kind == "yes_no"
            else {"valueInteger": int(answer)}
        )
        items.append({"linkId": item.id, "text": item.label, "answer": [value]})
    out: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(row.pk),
        "meta": meta(row.recorded_at, c.us_core("us-core-questionnaireresponse")),
        "questionnaire": QUESTIONNAIRE_BASE + questionnaire_id(instrument.id),
        "status": "completed",
        "subject": reference("Patient", row.patient_id),
        "authored": instant(row.recorded_at),
        "source": reference("Patient", row.patient_id)
        if row.source == "portal"
        else (reference("Practitioner", row.entered_by_id) if row.entered_by_id else None),
        "item": items,
    }
    if out["source"] is None:
        del out["source"]
    if row.entered_by_id:
        out["author"] = reference("Practitioner", row.entered_by_id)
    return out


register(
    ResourceType(
        name="QuestionnaireResponse",
        sources=(
            Source(
                prefix="",
                model=ScaleResponse,
                build=questionnaire_response_resource,
                date_lookup="recorded_at",
                updated=F("recorded_at"),
                status=lambda v: Q() if v == "completed" else None,
            ),
        ),
        permission=Permission.QUESTIONNAIRE_VIEW,
        params=(
            *SUBJECT_PARAMS,
            SearchParam("authored", "date"),
            SearchParam("status", "status"),
        ),
        includes=(*SUBJECT_INCLUDES,),
        profile=c.us_core("us-core-questionnaireresponse"),
        documentation="Answers to rating scales, item by item.",
    )
)
