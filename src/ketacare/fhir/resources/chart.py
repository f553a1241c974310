"""Condition, AllergyIntolerance and MedicationStatement, from the chart's list sections.

Each chart section is one row holding a list, so one row expands into one resource per entry;
an entry's id is the section row and the entry's code (`dx-12-F33.1`), stable across edits that
keep the entry. Diagnoses are ICD-10-CM; history items without a standard code use the local
code system; medicines carry RxNorm where the core's vocabulary knows the ingredient.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import F, Q

from ketacare.accounts.permissions import Permission
from ketacare.fhir import codes as c
from ketacare.fhir.registry import (
    SUBJECT_INCLUDES,
    SUBJECT_PARAMS,
    BuildContext,
    Include,
    Resource,
    ResourceType,
    SearchParam,
    Source,
    instant,
    meta,
    reference,
    register,
)
from ketacare.fhir.vocabulary import condition_codings, medicine_codings
from ketacare.patients.codes import condition_label
from ketacare.patients.models import ChartSection

CLINICAL_STATUS = {"active": "active", "in_remission": "remission", "resolved": "resolved"}
SEVERITY = {"mild": "mild", "moderate": "moderate", "severe": "severe"}


def _id_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]", ".", value)[:40]


def _unique(parts: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for part in parts:
        seen[part] = seen.get(part, 0) + 1
        out.append(part if seen[part] == 1 else f"{part}.{seen[part]}")
    return out


def _problem_category() -> list[dict[str, Any]]:
    return [{"coding": [c.coding(c.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")]}]


def _condition(
    row: ChartSection, part: str, code: dict[str, Any], ctx: BuildContext, **extra: Any
) -> Resource:
    return {
        "resourceType": "Condition",
        "id": f"{'dx' if row.section == 'diagnoses' else 'hx'}-{row.pk}-{part}",
        "meta": meta(row.updated_at, c.us_core("us-core-condition-problems-health-concerns")),
        "category": _problem_category(),
        "code": code,
        "subject": reference("Patient", row.patient_id),
        "recordedDate": instant(row.updated_at),
        "recorder": reference("Practitioner", row.updated_by_id),
        **extra,
    }


def condition_resources(row: ChartSection, ctx: BuildContext) -> list[Resource]:
    """The chart's diagnoses (ICD-10-CM) and ticked history conditions, one Condition each."""
    data = row.data or {}
    out: list[Resource] = []
    if row.section == "diagnoses":
        items = data.get("items", [])
        parts = _unique([_id_part(item["icd10"]) for item in items])
        for part, item in zip(parts, items, strict=True):
            status = CLINICAL_STATUS.get(item.get("status", "active"), "active")
            extra: dict[str, Any] = {
                "clinicalStatus": {"coding": [c.coding(c.CONDITION_CLINICAL, status)]},
                "verificationStatus": {"coding": [c.coding(c.CONDITION_VERIFICATION, "confirmed")]},
            }
            if item.get("onset_year"):
                extra["onsetDateTime"] = str(item["onset_year"])
            code = {
                "coding": [c.coding(c.ICD10CM, item["icd10"], item.get("description"))],
                "text": item.get("description") or item["icd10"],
            }
            out.append(_condition(row, part, code, ctx, **extra))
        return out
    history = "Psychiatric history" if row.section == "psychiatric_history" else "Medical history"
    for condition in data.get("conditions", []):
        code = {
            "coding": [
                *condition_codings(condition),
                c.coding(c.LOCAL, condition, condition_label(condition)),
            ],
            "text": condition_label(condition),
        }
        out.append(_condition(row, _id_part(condition), code, ctx, note=[{"text": f"{history}"}]))
    for index, other in enumerate(data.get("other", []), start=1):
        out.append(
            _condition(
                row,
                f"other{index}",
                {"text": other},
                ctx,
                note=[{"text": f"{history} (free text)"}],
            )
        )
    return out


def _section_source(
    prefix: str, sections: tuple[str, ...], build: Any, status: Any = None
) -> Source:
    return Source(
        prefix=prefix,
        model=ChartSection,
        build=build,
        base=Q(section__in=sections),
        date_lookup="updated_at",
        updated=F("updated_at"),
        expands=True,
        status=status,
    )


register(
    ResourceType(
        name="Condition",
        sources=(
            _section_source("dx", ("diagnoses",), condition_resources),
            _section_source("hx", ("psychiatric_history", "medical_history"), condition_resources),
        ),
        permission=Permission.CHART_VIEW,
        params=(
            *SUBJECT_PARAMS,
            SearchParam("code", "token"),
            SearchParam("category", "category"),
            SearchParam("clinical-status", "status"),
            SearchParam("recorded-date", "date"),
        ),
        includes=(*SUBJECT_INCLUDES,),
        profile=c.us_core("us-core-condition-problems-health-concerns"),
        documentation="Diagnoses (ICD-10-CM) and the chart's history conditions (local codes).",
    )
)


def allergy_resources(row: ChartSection, ctx: BuildContext) -> list[Resource]:
    """The chart's allergies, or one 'no known allergy' entry when none are known."""
    data = row.data or {}
    common: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "meta": meta(row.updated_at, c.us_core("us-core-allergyintolerance")),
        "clinicalStatus": {"coding": [c.coding(c.ALLERGY_CLINICAL, "active")]},
        "verificationStatus": {"coding": [c.coding(c.ALLERGY_VERIFICATION, "unconfirmed")]},
        "patient": reference("Patient", row.patient_id),
        "recordedDate": instant(row.updated_at),
        "recorder": reference("Practitioner", row.updated_by_id),
    }
    if data.get("none_known"):
        return [
            {
                **common,
                "id": f"alg-{row.pk}-nka",
                "verificationStatus": {"coding": [c.coding(c.ALLERGY_VERIFICATION, "confirmed")]},
                "code": {
                    "coding": [c.coding(c.SNOMED, c.NO_KNOWN_ALLERGY, "No known allergy")],
                    "text": "No known allergy",
                },
            }
        ]
    out = []
    for index, item in enumerate(data.get("items", []), start=1):
        resource: Resource = {
            **common,
            "id": f"alg-{row.pk}-{index}",
            "code": {
                "coding": medicine_codings(item["substance"]),
                "text": item["substance"],
            },
        }
        if not resource["code"]["coding"]:
            del resource["code"]["coding"]
        if item.get("reaction"):
            reaction: dict[str, Any] = {"manifestation": [{"text": item["reaction"]}]}
            if item.get("severity") in SEVERITY:
                reaction["severity"] = SEVERITY[item["severity"]]
            resource["reaction"] = [reaction]
        out.append(resource)
    return out


register(
    ResourceType(
        name="AllergyIntolerance",
        sources=(_section_source("alg", ("allergies",), allergy_resources),),
        permission=Permission.CHART_VIEW,
        params=(
            SearchParam("patient", "reference"),
            SearchParam("clinical-status", "status"),
            SearchParam("code", "token"),
            SearchParam("date", "date"),
        ),
        includes=(Include("patient", "patient", "Patient"),),
        profile=c.us_core("us-core-allergyintolerance"),
        documentation="The chart's allergies; 'none known' is SNOMED CT 716186003.",
    )
)


def medication_statement_resources(row: ChartSection, ctx: BuildContext) -> list[Resource]:
    """The chart's current medicines, by generic name (RxNorm where the vocabulary knows it)."""
    out = []
    for index, item in enumerate((row.data or {}).get("items", []), start=1):
        name = item["generic_name"]
        text = f"{name} ({item['brand_name']})" if item.get("brand_name") else name
        concept: dict[str, Any] = {"text": text}
        codings = medicine_codings(name)
        if codings:
            concept["coding"] = codings
        resource: Resource = {
            "resourceType": "MedicationStatement",
            "id": f"med-{row.pk}-{index}",
            "meta": meta(row.updated_at, None),
            "status": "active",
            "medicationCodeableConcept": concept,
            "subject": reference("Patient", row.patient_id),
            "dateAsserted": instant(row.updated_at),
            "informationSource": reference("Practitioner", row.updated_by_id),
        }
        dosage = " ".join(v for v in (item.get("dose"), item.get("frequency")) if v)
        if dosage:
            resource["dosage"] = [{"text": dosage}]
        if item.get("indication"):
            resource["reasonCode"] = [{"text": item["indication"]}]
        out.append(resource)
    return out


register(
    ResourceType(
        name="MedicationStatement",
        sources=(_section_source("med", ("medicines",), medication_statement_resources),),
        permission=Permission.CHART_VIEW,
        params=(
            *SUBJECT_PARAMS,
            SearchParam("status", "status"),
            SearchParam("code", "token"),
            SearchParam("effective", "date"),
        ),
        includes=(Include("patient", "subject", "Patient"),),
        documentation="The chart's current medicines (generic names; RxNorm where known).",
    )
)
