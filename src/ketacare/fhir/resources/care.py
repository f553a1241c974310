"""Encounter (a session), MedicationAdministration, AdverseEvent, CarePlan (a course),
Appointment, Consent, QuestionnaireResponse and Provenance for signed records."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest

from ketacare.accounts.permissions import Permission
from ketacare.clinical.instruments import load_instruments
from ketacare.clinical.profiles import load_deliveries
from ketacare.consent.models import ConsentSignature
from ketacare.fhir import codes as c
from ketacare.fhir.registry import (
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
from ketacare.fhir.resources.directory import QUESTIONNAIRE_BASE, questionnaire_id
from ketacare.outcomes.models import ScaleResponse
from ketacare.scheduling.models import Appointment, Course
from ketacare.treatment.models import Administration, AdverseEvent, DoseOrder, TreatmentSession


def _status_filter(mapping: dict[str, str], column: str = "status") -> Any:
    """A FHIR status search answered by the model values that map to it."""

    def matches(value: str) -> Q | None:
        values = [ours for ours, theirs in mapping.items() if theirs == value]
        return Q(**{f"{column}__in": values}) if values else None

    return matches


def _latest(*columns: str) -> Any:
    base = columns[0]
    return Greatest(F(base), *(Coalesce(col, base) for col in columns[1:]))


# --- Encounter ------------------------------------------------------------------------------------

ENCOUNTER_STATUS = {
    "checked_in": "arrived",
    "pre_checked": "in-progress",
    "ordered": "in-progress",
    "verified": "in-progress",
    "dosing": "in-progress",
    "observation": "in-progress",
    "discharged": "finished",
    "cancelled": "cancelled",
}


def encounter_resource(row: TreatmentSession, ctx: BuildContext) -> Resource:
    """A supervised treatment session as an ambulatory Encounter (US Core 6.1 Encounter)."""
    end = row.discharged_at or row.cancelled_at
    period = {"start": instant(row.checked_in_at)}
    if end:
        period["end"] = instant(end)
    out: Resource = {
        "resourceType": "Encounter",
        "id": str(row.pk),
        "meta": meta(row._fhir_updated, c.us_core("us-core-encounter")),  # type: ignore[attr-defined]
        "status": ENCOUNTER_STATUS.get(row.status, "unknown"),
        "class": c.coding(c.ACT_CODE, "AMB", "ambulatory"),
        "type": [
            {
                "coding": [
                    c.coding(c.LOCAL, f"session-{row.route}", f"Treatment session ({row.route})")
                ],
                "text": f"Ketamine treatment session, {row.protocol_id} v{row.protocol_version}",
            }
        ],
        "subject": reference("Patient", row.patient_id),
        "participant": [{"individual": reference("Practitioner", row.checked_in_by_id)}],
        "period": period,
        "serviceProvider": reference("Organization", ctx.clinic.pk),
    }
    if row.appointment_id:
        out["appointment"] = [reference("Appointment", row.appointment_id)]
        chair = row.appointment.chair_id if row.appointment else None
        if chair:
            out["location"] = [{"location": reference("Location", chair)}]
    if row.cancel_reason:
        out["reasonCode"] = [{"text": f"Cancelled: {row.cancel_reason}"}]
    return out


register(
    ResourceType(
        name="Encounter",
        sources=(
            Source(
                prefix="",
                model=TreatmentSession,
                build=encounter_resource,
                date_lookup="checked_in_at",
                updated=_latest("created_at", "dosing_started_at", "discharged_at", "cancelled_at"),
                related=("appointment",),
                status=_status_filter(ENCOUNTER_STATUS),
            ),
        ),
        permission=Permission.SESSION_VIEW,
        params=(
            SearchParam("patient", "reference"),
            SearchParam("subject", "reference"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(
            Include("patient", "subject", "Patient"),
            Include("subject", "subject", "Patient"),
            Include("appointment", "appointment", "Appointment"),
            Include("location", "location.location", "Location"),
        ),
        profile=c.us_core("us-core-encounter"),
        documentation="Each supervised treatment session, from check-in to discharge.",
    )
)


# --- MedicationAdministration ------------------------------------------------------------------

ADMINISTRATION_STATUS = {
    "running": "in-progress",
    "paused": "on-hold",
    "stopped": "stopped",
    "completed": "completed",
}


def _number(value: Any) -> int | float:
    return int(value) if value == value.to_integral() else float(value)


def _device_routes() -> tuple[str, ...]:
    """Routes whose dose is given as SPRAVATO's 28 mg devices (the core's route data)."""
    return tuple(route for route, d in load_deliveries().items() if d.devices)


def medication_concept(route: str, product: str) -> dict[str, Any]:
    """Ketamine (RxNorm 6130, open per reference §4) or, for the device route, esketamine's
    SPRAVATO device (NDC 50458-028), with text."""
    if route in _device_routes():
        codings = [c.coding(c.NDC, c.NDC_SPRAVATO_DEVICE, "SPRAVATO (esketamine) 28 mg device")]
    else:
        codings = [c.coding(c.RXNORM, c.RXNORM_KETAMINE, "ketamine")]
    return {"coding": codings, "text": product}


def medication_administration_resource(row: Administration, ctx: BuildContext) -> Resource:
    """The dose as given: medicine, lot (contained Medication), delivered dose, route, rate."""
    order: DoseOrder = row.dose_order
    session = row.session
    route = c.ROUTES.get(order.route)
    dosage: dict[str, Any] = {
        "dose": {"value": _number(order.dose_mg), "unit": "mg", "system": c.UCUM, "code": "mg"}
    }
    if route:
        dosage["route"] = {"coding": [c.coding(c.SNOMED, route[0], route[1])], "text": order.route}
    if row.rate_ml_per_h is not None:
        dosage["rateQuantity"] = {
            "value": _number(row.rate_ml_per_h),
            "unit": "mL/h",
            "system": c.UCUM,
            "code": "mL/h",
        }
    if order.devices:
        dosage["text"] = (
            f"{order.devices} device(s), {order.rest_between_devices_min or 5} min apart"
        )
    period: dict[str, Any] = {"start": instant(row.started_at)}
    if row.stopped_at:
        period["end"] = instant(row.stopped_at)
    medication: Resource = {
        "resourceType": "Medication",
        "id": "med",
        "code": medication_concept(order.route, row.product),
        "batch": {"lotNumber": row.lot},
    }
    if row.concentration_mg_per_ml is not None:
        medication["ingredient"] = [
            {
                "itemCodeableConcept": medication_concept(order.route, row.product),
                "strength": {
                    "numerator": {
                        "value": _number(row.concentration_mg_per_ml),
                        "system": c.UCUM,
                        "code": "mg",
                        "unit": "mg",
                    },
                    "denominator": {"value": 1, "system": c.UCUM, "code": "mL", "unit": "mL"},
                },
            }
        ]
    out: Resource = {
        "resourceType": "MedicationAdministration",
        "id": str(row.pk),
        "meta": meta(row._fhir_updated, None),  # type: ignore[attr-defined]
        "contained": [medication],
        "status": ADMINISTRATION_STATUS.get(row.state, "unknown"),
        "medicationReference": {"reference": "#med", "display": row.product},
        "subject": reference("Patient", session.patient_id),
        "context": reference("Encounter", session.pk),
        "effectivePeriod": period,
        "performer": [{"actor": reference("Practitioner", row.started_by_id)}],
        "request": {"display": f"Dose order {order.pk}, verified by a second clinician"},
        "dosage": dosage,
    }
    return out


def _administration_code(system: str | None, code: str) -> Q | None:
    if system in (None, c.RXNORM) and code == c.RXNORM_KETAMINE:
        return ~Q(dose_order__route__in=_device_routes())
    if system in (None, c.NDC) and code == c.NDC_SPRAVATO_DEVICE:
        return Q(dose_order__route__in=_device_routes())
    return None


register(
    ResourceType(
        name="MedicationAdministration",
        sources=(
            Source(
                prefix="",
                model=Administration,
                build=medication_administration_resource,
                patient_lookup="session__patient_id",
                date_lookup="started_at",
                updated=_latest("started_at", "stopped_at"),
                related=("dose_order", "session"),
                status=_status_filter(ADMINISTRATION_STATUS, "state"),
                code=_administration_code,
            ),
        ),
        permission=Permission.SESSION_VIEW,
        params=(
            SearchParam("patient", "reference"),
            SearchParam("subject", "reference"),
            SearchParam("effective-time", "date"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
            SearchParam("code", "token"),
        ),
        includes=(
            Include("patient", "subject", "Patient"),
            Include("subject", "subject", "Patient"),
            Include("context", "context", "Encounter"),
        ),
        documentation=(
            "Ketamine (RxNorm 6130) and esketamine (NDC 50458-028) as given in a session: "
            "delivered dose, route, rate and lot. `date` is accepted as `effective-time`."
        ),
    )
)


# --- AdverseEvent ------------------------------------------------------------------------------

AE_SEVERITY = {
    "mild": "mild",
    "moderate": "moderate",
    "severe": "severe",
    "life_threatening": "severe",
}
AE_OUTCOME = {
    "resolved": "resolved",
    "resolving": "recovering",
    "ongoing": "ongoing",
    "transferred": "ongoing",
}


def adverse_event_resource(row: AdverseEvent, ctx: BuildContext) -> Resource:
    """An adverse event in a session."""
    return {
        "resourceType": "AdverseEvent",
        "id": str(row.pk),
        "meta": meta(row.recorded_at, None),
        "actuality": "actual",
        "event": {
            "coding": [c.coding(c.LOCAL, f"ae-{row.kind}", row.get_kind_display())],
            "text": row.description or row.get_kind_display(),
        },
        "subject": reference("Patient", row.session.patient_id),
        "encounter": reference("Encounter", row.session_id),
        "date": instant(row.onset_at),
        "recordedDate": instant(row.recorded_at),
        "recorder": reference("Practitioner", row.recorded_by_id),
        "severity": {
            "coding": [c.coding(c.ADVERSE_EVENT_SEVERITY, AE_SEVERITY[row.severity])],
            "text": row.get_severity_display(),
        },
        "outcome": {
            "coding": [c.coding(c.ADVERSE_EVENT_OUTCOME, AE_OUTCOME[row.outcome])],
            "text": row.get_outcome_display(),
        },
        "suspectEntity": [{"instance": {"display": "ketamine or esketamine given in the session"}}],
    }


register(
    ResourceType(
        name="AdverseEvent",
        sources=(
            Source(
                prefix="",
                model=AdverseEvent,
                build=adverse_event_resource,
                patient_lookup="session__patient_id",
                date_lookup="onset_at",
                updated=F("recorded_at"),
                related=("session",),
            ),
        ),
        permission=Permission.SESSION_VIEW,
        params=(
            SearchParam("subject", "reference"),
            SearchParam("patient", "reference"),
            SearchParam("date", "date"),
        ),
        includes=(
            Include("subject", "subject", "Patient"),
            Include("patient", "subject", "Patient"),
        ),
        documentation="Adverse events recorded during sessions (local event codes).",
    )
)


# --- CarePlan (a course) ------------------------------------------------------------------------

CAREPLAN_STATUS = {"active": "active", "completed": "completed", "stopped": "revoked"}


def care_plan_resource(row: Course, ctx: BuildContext) -> Resource:
    """A course under one protocol version, as a CarePlan."""
    period: dict[str, Any] = {"start": row.started_on.isoformat()}
    if row.ended_at:
        period["end"] = instant(row.ended_at)
    out: Resource = {
        "resourceType": "CarePlan",
        "id": str(row.pk),
        "meta": meta(row._fhir_updated, None),  # type: ignore[attr-defined]
        "status": CAREPLAN_STATUS.get(row.status, "unknown"),
        "intent": "plan",
        "category": [{"coding": [c.coding(c.LOCAL, f"course-{row.kind}", row.get_kind_display())]}],
        "title": f"{row.get_kind_display()} course: {row.protocol_id} v{row.protocol_version}",
        "description": (
            f"{row.route} route, {row.planned_sessions or 'open-ended'} planned sessions"
            + (f"; ended: {row.end_reason}" if row.end_reason else "")
        ),
        "subject": reference("Patient", row.patient_id),
        "period": period,
        "created": instant(row.created_at),
        "author": reference("Practitioner", row.created_by_id),
    }
    if row.parent_id:
        out["basedOn"] = [reference("CarePlan", row.parent_id)]
    return out


register(
    ResourceType(
        name="CarePlan",
        sources=(
            Source(
                prefix="",
                model=Course,
                build=care_plan_resource,
                date_lookup="started_on",
                updated=_latest("created_at", "ended_at"),
                status=_status_filter(CAREPLAN_STATUS),
            ),
        ),
        permission=Permission.SCHEDULE_VIEW,
        params=(
            SearchParam("patient", "reference"),
            SearchParam("subject", "reference"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(
            Include("patient", "subject", "Patient"),
            Include("subject", "subject", "Patient"),
        ),
        documentation="Treatment courses (induction, booster, maintenance) under a protocol.",
    )
)


# --- Appointment -------------------------------------------------------------------------------

APPOINTMENT_STATUS = {
    "booked": "booked",
    "arrived": "arrived",
    "in_session": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
    "not_dosed": "fulfilled",
}


def appointment_resource(row: Appointment, ctx: BuildContext) -> Resource:
    """A booked time in a chair for a patient."""
    participants: list[dict[str, Any]] = [
        {"actor": reference("Patient", row.patient_id), "status": "accepted"}
    ]
    if row.chair_id:
        participants.append({"actor": reference("Location", row.chair_id), "status": "accepted"})
    out: Resource = {
        "resourceType": "Appointment",
        "id": str(row.pk),
        "meta": meta(row.created_at, None),
        "status": APPOINTMENT_STATUS.get(row.status, "booked"),
        "appointmentType": {"text": row.get_kind_display()},
        "start": instant(row.starts_at),
        "end": instant(row.ends_at),
        "created": instant(row.created_at),
        "participant": participants,
    }
    if row.cancel_reason:
        out["cancelationReason"] = {"text": row.cancel_reason}
    if row.course_id:
        out["basedOn"] = [{"display": f"Course {row.course_id}"}]
    if row.status == "not_dosed":
        out["comment"] = "Attended, not dosed."
    return out


register(
    ResourceType(
        name="Appointment",
        sources=(
            Source(
                prefix="",
                model=Appointment,
                build=appointment_resource,
                date_lookup="starts_at",
                updated=F("created_at"),
                status=_status_filter(APPOINTMENT_STATUS),
            ),
        ),
        permission=Permission.SCHEDULE_VIEW,
        params=(
            SearchParam("patient", "reference"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(
            Include("patient", "participant.actor", "Patient"),
            Include("location", "participant.actor", "Location"),
        ),
        documentation="Booked chair times (treatment, booster, consultation, integration).",
    )
)


# --- Consent -----------------------------------------------------------------------------------


def consent_resource(row: ConsentSignature, ctx: BuildContext) -> Resource:
    """A signed consent: the exact version signed (by its SHA-256) and any withdrawal."""
    version = row.document_version
    return {
        "resourceType": "Consent",
        "id": str(row.pk),
        "meta": meta(row.withdrawn_at or row.recorded_at, None),
        "identifier": [{"system": "urn:ketacare:consent-text-sha256", "value": row.body_sha256}],
        "status": "inactive" if row.withdrawn_at else "active",
        "scope": {"coding": [c.coding(c.CONSENT_SCOPE, "treatment", "Treatment")]},
        "category": [{"coding": [c.coding(c.LOINC, c.PATIENT_CONSENT, "Patient Consent")]}],
        "patient": reference("Patient", row.patient_id),
        "dateTime": instant(row.signed_at),
        "performer": [reference("Patient", row.patient_id)],
        "organization": [reference("Organization", ctx.clinic.pk)],
        "sourceAttachment": {
            "contentType": "text/plain",
            "title": f"{version.title or version.document_id} (version {version.number})",
            "creation": instant(version.published_at),
        },
        "policyRule": {
            "text": f"Clinic consent for the {row.document_version.document.route} route"
        },
        "provision": {"type": "permit"} if not row.withdrawn_at else {"type": "deny"},
    }


register(
    ResourceType(
        name="Consent",
        sources=(
            Source(
                prefix="",
                model=ConsentSignature,
                build=consent_resource,
                date_lookup="signed_at",
                updated=Coalesce("withdrawn_at", "recorded_at"),
                related=("document_version", "document_version__document"),
                status=lambda v: (
                    Q(withdrawn_at__isnull=v == "active") if v in {"active", "inactive"} else None
                ),
            ),
        ),
        permission=Permission.CONSENT_VIEW,
        params=(
            SearchParam("patient", "reference"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(Include("patient", "patient", "Patient"),),
        documentation="Signed treatment consents; withdrawn ones are inactive.",
    )
)


# --- QuestionnaireResponse --------------------------------------------------------------------


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
            SearchParam("patient", "reference"),
            SearchParam("subject", "reference"),
            SearchParam("authored", "date"),
            SearchParam("status", "status"),
        ),
        includes=(
            Include("patient", "subject", "Patient"),
            Include("subject", "subject", "Patient"),
        ),
        profile=c.us_core("us-core-questionnaireresponse"),
        documentation="Answers to rating scales, item by item.",
    )
)


# --- Provenance for signed records -------------------------------------------------------------


def _agent(kind: str, who: dict[str, Any]) -> dict[str, Any]:
    return {"type": {"coding": [c.coding(c.PROVENANCE_AGENT, kind)]}, "who": who}


def consent_provenance(row: ConsentSignature, ctx: BuildContext) -> Resource:
    """Who signed, witnessed and recorded a consent, and when."""
    return {
        "resourceType": "Provenance",
        "id": f"consent-{row.pk}",
        "meta": meta(row.recorded_at, c.us_core("us-core-provenance")),
        "target": [reference("Consent", row.pk)],
        "recorded": instant(row.recorded_at),
        "occurredDateTime": instant(row.signed_at),
        "agent": [
            _agent("author", reference("Patient", row.patient_id, row.signed_name)),
            _agent("verifier", reference("Practitioner", row.witnessed_by_id)),
            _agent("enterer", reference("Practitioner", row.recorded_by_id)),
        ],
        "signature": [
            {
                "type": [
                    c.coding(
                        "urn:iso-astm:E1762-95:2013", "1.2.840.10065.1.12.1.7", "Consent Signature"
                    )
                ],
                "when": instant(row.signed_at),
                "who": reference("Patient", row.patient_id),
            }
        ],
    }


def dose_provenance(row: DoseOrder, ctx: BuildContext) -> Resource:
    """The order and the second clinician's verification behind an administration."""
    return {
        "resourceType": "Provenance",
        "id": f"dose-{row.pk}",
        "meta": meta(row.verified_at, c.us_core("us-core-provenance")),
        "target": [reference("MedicationAdministration", row.administration.pk)],
        "recorded": instant(row.verified_at),
        "occurredDateTime": instant(row.ordered_at),
        "agent": [
            _agent("author", reference("Practitioner", row.ordered_by_id)),
            _agent("verifier", reference("Practitioner", row.verified_by_id)),
        ],
    }


register(
    ResourceType(
        name="Provenance",
        sources=(
            Source(
                prefix="consent",
                model=ConsentSignature,
                build=consent_provenance,
                date_lookup="recorded_at",
                updated=F("recorded_at"),
            ),
            Source(
                prefix="dose",
                model=DoseOrder,
                build=dose_provenance,
                base=Q(verified_at__isnull=False, administration__isnull=False),
                patient_lookup="session__patient_id",
                date_lookup="verified_at",
                updated=F("verified_at"),
                related=("administration",),
            ),
        ),
        permission=Permission.CHART_VIEW,
        params=(SearchParam("patient", "reference"), SearchParam("recorded", "date")),
        profile=c.us_core("us-core-provenance"),
        documentation="Who signed a consent and who ordered and verified each dose given.",
    )
)
