"""Patient, Practitioner, Organization (the clinic), Location (chairs) and Questionnaire."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q

from ketacare.accounts.models import Clinic, Membership
from ketacare.accounts.permissions import Permission
from ketacare.clinical.instruments import Instrument, load_instruments
from ketacare.fhir.codes import coding, system_url, us_core
from ketacare.fhir.registry import (
    BuildContext,
    Resource,
    ResourceType,
    SearchParam,
    Source,
    meta,
    register,
)
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Chair

MRN_SYSTEM = "urn:ketacare:clinic:{slug}:mrn"
USER_SYSTEM = "urn:ketacare:user"
CLINIC_SYSTEM = "urn:ketacare:clinic"
QUESTIONNAIRE_BASE = "urn:ketacare:fhir:Questionnaire:"

GENDER = {"female": "female", "male": "male", "unknown": "unknown"}


def patient_resource(row: Patient, ctx: BuildContext) -> Resource:
    """A Patient (US Core 6.1 Patient): MRN, name, sex assigned at birth, birth date, contacts."""
    telecom = []
    if row.phone:
        telecom.append({"system": "phone", "value": row.phone, "use": "home"})
    if row.email:
        telecom.append({"system": "email", "value": row.email})
    name: dict[str, Any] = {"use": "official", "family": row.family_name, "given": [row.given_name]}
    names = [name]
    if row.preferred_name:
        names.append({"use": "usual", "given": [row.preferred_name], "family": row.family_name})
    out: Resource = {
        "resourceType": "Patient",
        "id": str(row.pk),
        "meta": meta(row.updated_at, us_core("us-core-patient")),
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        coding(
                            "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "MR",
                            "Medical record number",
                        )
                    ]
                },
                "system": MRN_SYSTEM.format(slug=ctx.clinic.slug),
                "value": row.mrn,
            }
        ],
        "active": True,
        "name": names,
        "gender": GENDER.get(row.sex, "unknown"),
        "birthDate": row.date_of_birth.isoformat(),
        "managingOrganization": {"reference": f"Organization/{ctx.clinic.pk}"},
    }
    if telecom:
        out["telecom"] = telecom
    return out


PATIENT = register(
    ResourceType(
        name="Patient",
        sources=(
            Source(
                prefix="",
                model=Patient,
                build=patient_resource,
                patient_lookup="pk",
                date_lookup="date_of_birth",
                updated=F("updated_at"),
                status=lambda value: Q(sex=value) if value in GENDER else None,
            ),
        ),
        permission=Permission.PATIENT_VIEW,
        params=(
            SearchParam("name", "string", "given_name|family_name|preferred_name"),
            SearchParam("family", "string", "family_name"),
            SearchParam("given", "string", "given_name|preferred_name"),
            SearchParam("identifier", "string", "mrn"),
            SearchParam("birthdate", "date"),
            SearchParam("gender", "status"),
        ),
        profile=us_core("us-core-patient"),
        documentation="The clinic's patients; identifier is the clinic's MRN.",
    )
)


def practitioner_resource(row: Membership, ctx: BuildContext) -> Resource:
    """A Practitioner: a member of the clinic's staff (US Core 6.1 Practitioner)."""
    user = row.user
    return {
        "resourceType": "Practitioner",
        "id": str(user.pk),
        "meta": meta(row.created_at, us_core("us-core-practitioner")),
        "identifier": [{"system": USER_SYSTEM, "value": user.username}],
        "active": bool(row.is_active and user.is_active),
        "name": [
            {
                "text": user.display_name(),
                "family": user.last_name or user.username,
                **({"given": [user.first_name]} if user.first_name else {}),
            }
        ],
    }


register(
    ResourceType(
        name="Practitioner",
        sources=(
            Source(
                prefix="",
                model=Membership,
                build=practitioner_resource,
                patient_lookup=None,
                id_lookup="user_id",
                related=("user",),
                updated=F("created_at"),
            ),
        ),
        permission=Permission.SCHEDULE_VIEW,
        params=(SearchParam("name", "string", "user__first_name|user__last_name|user__username"),),
        profile=us_core("us-core-practitioner"),
        documentation="The clinic's staff (ids are user ids).",
    )
)


def organization_resource(row: Clinic, ctx: BuildContext) -> Resource:
    """The clinic as an Organization (US Core 6.1 Organization)."""
    return {
        "resourceType": "Organization",
        "id": str(row.pk),
        "meta": meta(row.created_at, us_core("us-core-organization")),
        "identifier": [{"system": CLINIC_SYSTEM, "value": row.slug}],
        "active": True,
        "type": [
            {
                "coding": [
                    coding(
                        "http://terminology.hl7.org/CodeSystem/organization-type",
                        "prov",
                        "Healthcare Provider",
                    )
                ]
            }
        ],
        "name": row.name,
    }


register(
    ResourceType(
        name="Organization",
        sources=(
            Source(
                prefix="",
                model=Clinic,
                build=organization_resource,
                clinic_lookup="pk",
                patient_lookup=None,
                updated=F("created_at"),
            ),
        ),
        permission=Permission.SCHEDULE_VIEW,
        params=(SearchParam("name", "string", "name"),),
        profile=us_core("us-core-organization"),
        documentation="The clinic itself (a token sees only its own clinic).",
    )
)


def location_resource(row: Chair, ctx: BuildContext) -> Resource:
    """A treatment chair in a room, as a Location (US Core 6.1 Location)."""
    return {
        "resourceType": "Location",
        "id": str(row.pk),
        "meta": meta(None, us_core("us-core-location")),
        "status": "active" if row.is_active else "inactive",
        "name": f"{row.room} · {row.label}",
        "alias": [row.room],
        "description": f"Treatment chair {row.label} in {row.room}",
        "mode": "instance",
        "physicalType": {
            "coding": [
                coding("http://terminology.hl7.org/CodeSystem/location-physical-type", "bd", "Bed")
            ]
        },
        "managingOrganization": {"reference": f"Organization/{ctx.clinic.pk}"},
    }


register(
    ResourceType(
        name="Location",
        sources=(
            Source(
                prefix="",
                model=Chair,
                build=location_resource,
                patient_lookup=None,
                # Chairs carry no timestamps; the clinic's creation stands in for _lastUpdated.
                updated=F("clinic__created_at"),
            ),
        ),
        permission=Permission.SCHEDULE_VIEW,
        params=(SearchParam("name", "string", "room|label"),),
        profile=us_core("us-core-location"),
        documentation="Treatment chairs (and beds); the room is the alias.",
    )
)


def questionnaire_id(instrument_id: str) -> str:
    """A FHIR id for an instrument (ids allow no underscore)."""
    return instrument_id.replace("_", "-")


def questionnaire_resource(instrument: Instrument) -> Resource:
    """An instrument as a Questionnaire; item wording only where its licence allows it."""
    items = []
    for item in instrument.items:
        entry: Resource = {
            "linkId": item.id,
            "text": item.text
            if instrument.licence.wording_reproduced and item.text
            else item.label,
            "type": "boolean" if instrument.answer_kind == "yes_no" else "integer",
            "required": item.required_if is None,
        }
        if item.code is not None:
            entry["code"] = [coding(system_url(item.code.system), item.code.code)]
        items.append(entry)
    out: Resource = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument.id),
        "url": QUESTIONNAIRE_BASE + questionnaire_id(instrument.id),
        "version": instrument.version,
        "name": instrument.short_name.replace("-", "").replace(" ", "").replace("/", ""),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": instrument.licence.note,
        "item": items,
    }
    if instrument.panel_code is not None:
        out["code"] = [coding(system_url(instrument.panel_code.system), instrument.panel_code.code)]
    if not instrument.licence.wording_reproduced:
        out["description"] = "Item labels only: the instrument's wording is not reproduced."
    return out


def _questionnaires(ctx: BuildContext) -> list[Resource]:
    return [questionnaire_resource(i) for i in load_instruments().values()]


register(
    ResourceType(
        name="Questionnaire",
        sources=(),
        permission=Permission.SCHEDULE_VIEW,
        params=(SearchParam("status", "status"), SearchParam("code", "token")),
        clinic_scoped=False,
        static=_questionnaires,
        documentation="The rating scales KetaCare scores (wording only where licensed).",
    )
)
