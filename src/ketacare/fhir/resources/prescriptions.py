"""At-home prescriptions in FHIR: MedicationRequest (US Core 6.1 MedicationRequest).

A signed prescription of the at-home programme is an outpatient order ("community" category)
for the patient to take at home: the medicine as written with its RxNorm ingredient code when
the vocabulary reads one, the programme's dose, the directions, quantity, refills and the
pharmacy. The telemedicine record the rules checked (DEA registration, PDMP) stays in KetaCare.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import F, Q

from ketacare.accounts.permissions import Permission
from ketacare.athome.models import HomePrescription, ProgrammeStatus
from ketacare.clinical import ClinicalError
from ketacare.clinical.protocols import get_protocol
from ketacare.clinical.vocabulary import load_vocabulary
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
    status_filter,
)

# FHIR R4 value set medicationrequest-category: "community" is a medicine taken at home.
MEDREQ_CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
COMMUNITY = "community"
# FHIR R4 value set medicationrequest-intent; every prescription KetaCare serves is an "order".
MEDREQ_INTENT = "http://hl7.org/fhir/CodeSystem/medicationrequest-intent"
ORDER = "order"
INTENTS = (
    "proposal",
    "plan",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
)
# The programme's state → the prescription's (FHIR R4 medicationrequest-status).
PRESCRIPTION_STATUS: dict[str, str] = {
    ProgrammeStatus.ACTIVE.value: "active",
    ProgrammeStatus.PAUSED.value: "on-hold",
    ProgrammeStatus.ENDED.value: "completed",
}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral() else float(value)


def _mg(value: Decimal) -> dict[str, Any]:
    return {"value": _number(value), "unit": "mg", "system": c.UCUM, "code": "mg"}


def medication_codings(drug: str) -> list[dict[str, str]]:
    """RxNorm ingredient codings of a medicine as written ("Ketamine HCl" → 6130). Fails
    closed: an ingredient without an RxNorm code, or a name naming none, gets no coding (the
    text still says what was prescribed)."""
    vocabulary = load_vocabulary()
    codings = []
    for concept in vocabulary.read_medicine(drug).concepts:
        ingredient = vocabulary.ingredients.get(concept)
        if ingredient is not None and ingredient.rxnorm:
            codings.append(c.coding(c.RXNORM, ingredient.rxnorm, ingredient.id))
    return codings


def _route(protocol_id: str) -> dict[str, Any] | None:
    try:
        route = get_protocol(protocol_id).route
    except (ClinicalError, KeyError):
        return None
    snomed = c.ROUTES.get(route)
    return {"coding": [c.coding(c.SNOMED, *snomed)], "text": route} if snomed else None


def medication_request_resource(row: HomePrescription, ctx: BuildContext) -> Resource:
    """A signed at-home prescription as a community MedicationRequest."""
    programme = row.programme
    concept: dict[str, Any] = {"text": f"{row.drug} {_number(row.strength_mg)} mg {row.form}"}
    codings = medication_codings(row.drug)
    if codings:
        concept["coding"] = codings
    dosage: dict[str, Any] = {
        "text": row.directions,
        "doseAndRate": [{"doseQuantity": _mg(programme.dose_mg)}],
    }
    route = _route(programme.protocol_id)
    if route is not None:
        dosage["route"] = route
    return {
        "resourceType": "MedicationRequest",
        "id": str(row.pk),
        "meta": meta(row.signed_at, c.us_core("us-core-medicationrequest")),
        "identifier": [{"system": "urn:ketacare:prescription-sha256", "value": row.content_sha256}],
        "status": PRESCRIPTION_STATUS.get(programme.status, "unknown"),
        "intent": ORDER,
        "category": [{"coding": [c.coding(MEDREQ_CATEGORY, COMMUNITY, "Community")]}],
        "reportedBoolean": False,
        "medicationCodeableConcept": concept,
        "subject": reference("Patient", row.patient_id),
        "authoredOn": instant(row.signed_at),
        "requester": reference("Practitioner", row.prescriber_id),
        "dosageInstruction": [dosage],
        "dispenseRequest": {
            "validityPeriod": {"start": instant(row.issued_on)},
            "numberOfRepeatsAllowed": row.refills,
            "quantity": {"value": row.quantity, "unit": row.form},
            "performer": {"display": row.pharmacy},
        },
    }


def _code(system: str | None, code: str) -> Q | None:
    if system in (None, c.RXNORM) and code == c.RXNORM_KETAMINE:
        # the names the vocabulary reads as ketamine; esketamine is another ingredient
        return Q(drug__icontains="ketamine") & ~Q(drug__icontains="esketamine")
    return None


def _category(system: str | None, code: str) -> Q | None:
    return Q() if system in (None, MEDREQ_CATEGORY) and code == COMMUNITY else None


register(
    ResourceType(
        name="MedicationRequest",
        sources=(
            Source(
                prefix="",
                model=HomePrescription,
                build=medication_request_resource,
                date_lookup="signed_at",
                updated=F("signed_at"),
                related=("programme",),
                status=status_filter(PRESCRIPTION_STATUS, "programme__status"),
                code=_code,
                category=_category,
            ),
        ),
        permission=Permission.ATHOME_VIEW,
        params=(
            *SUBJECT_PARAMS,
            SearchParam("authoredon", "date"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
            SearchParam("code", "token"),
            SearchParam("category", "category"),
            SearchParam("intent", "fixed", value=ORDER, system=MEDREQ_INTENT, codes=INTENTS),
        ),
        includes=(*SUBJECT_INCLUDES, Include("requester", "requester", "Practitioner")),
        profile=c.us_core("us-core-medicationrequest"),
        documentation=(
            "Signed at-home prescriptions (community orders): the medicine as written with its "
            "RxNorm ingredient, dose, directions, quantity, refills and pharmacy; the status "
            "follows the at-home programme. `date` is accepted as `authoredon`."
        ),
    )
)
