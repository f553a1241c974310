"""A supervised session in FHIR: the Encounter, the MedicationAdministration given in it and
its AdverseEvents."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q

from ketacare.accounts.permissions import Permission
from ketacare.clinical.profiles import load_deliveries
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
    latest,
    meta,
    reference,
    register,
    status_filter,
)
from ketacare.treatment.models import Administration, AdverseEvent, DoseOrder, TreatmentSession

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
                updated=latest("created_at", "dosing_started_at", "discharged_at", "cancelled_at"),
                related=("appointment",),
                status=status_filter(ENCOUNTER_STATUS),
            ),
        ),
        permission=Permission.SESSION_VIEW,
        params=(
            *SUBJECT_PARAMS,
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(
            *SUBJECT_INCLUDES,
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
                updated=latest("started_at", "stopped_at"),
                related=("dose_order", "session"),
                status=status_filter(ADMINISTRATION_STATUS, "state"),
                code=_administration_code,
            ),
        ),
        permission=Permission.SESSION_VIEW,
        params=(
            *SUBJECT_PARAMS,
            SearchParam("effective-time", "date"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
            SearchParam("code", "token"),
        ),
        includes=(
            *SUBJECT_INCLUDES,
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
