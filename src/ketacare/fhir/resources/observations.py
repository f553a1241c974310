"""Observation: vital signs (LOINC codes, UCUM units) and rating-scale results.

Sources: readings on a session's monitoring timeline (one Observation per vital sign a reading
holds, with the blood-pressure panel carrying its systolic and diastolic components), body
measurements (weight, height; a voided one is `entered-in-error`), scored rating scales
(PHQ-9 44261-6, GAD-7 70274-6, C-SSRS risk level 93374-7, local codes where the reference says
the LOINC code is open), and the chart's baseline vitals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Model, Q
from django.utils.dateparse import parse_datetime

from ketacare.accounts.permissions import Permission
from ketacare.clinical.instruments import load_instruments
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
from ketacare.outcomes.models import ScaleResponse
from ketacare.patients.models import BodyMeasurement, ChartSection
from ketacare.treatment.models import MonitoringEntry

VITAL_SIGNS = "vital-signs"
SURVEY = "survey"


@dataclass(frozen=True)
class Vital:
    """One vital sign: its id prefix, reading field(s), LOINC codes, UCUM unit and profile."""

    prefix: str
    field: str
    codes: tuple[tuple[str, str, str], ...]  # (system, code, display)
    unit: str | None
    ucum: str | None
    profile: str | None
    category: str = VITAL_SIGNS


BP = Vital(
    "bp",
    "systolic",
    ((c.LOINC, c.BP_PANEL, "Blood pressure panel with all children optional"),),
    "mm[Hg]",
    "mm[Hg]",
    "us-core-blood-pressure",
)
READING_VITALS: tuple[Vital, ...] = (
    BP,
    Vital(
        "hr",
        "heart_rate",
        ((c.LOINC, c.HEART_RATE, "Heart rate"),),
        "/min",
        "/min",
        "us-core-heart-rate",
    ),
    Vital(
        "spo2",
        "spo2",
        (
            (
                c.LOINC,
                c.SPO2_PULSE_OXIMETRY,
                "Oxygen saturation in Arterial blood by Pulse oximetry",
            ),
            (c.LOINC, c.SPO2, "Oxygen saturation in Arterial blood"),
        ),
        "%",
        "%",
        "us-core-pulse-oximetry",
    ),
    Vital(
        "rr",
        "respiratory_rate",
        ((c.LOINC, c.RESPIRATORY_RATE, "Respiratory rate"),),
        "/min",
        "/min",
        "us-core-respiratory-rate",
    ),
    Vital(
        "moaas",
        "moaas",
        ((c.LOCAL, "moaas-score", "MOAA/S score"),),
        None,
        None,
        None,
        category="exam",
    ),
)


def _has_field(model: type[Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def _category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [c.coding(c.OBSERVATION_CATEGORY, code)]}]


def _quantity(value: Decimal | int | float, unit: str, ucum: str) -> dict[str, Any]:
    number: Decimal | int | float = value
    if isinstance(value, Decimal):
        number = int(value) if value == value.to_integral() else float(value)
    return {"value": number, "unit": unit, "system": c.UCUM, "code": ucum}


def observation(
    *,
    resource_id: str,
    patient_id: int,
    when: Any,
    vital: Vital,
    updated: Any,
    value: dict[str, Any] | None = None,
    components: list[dict[str, Any]] | None = None,
    status: str = "final",
    performer: int | None = None,
    encounter: int | None = None,
    note: str | None = None,
) -> Resource:
    """An Observation with the vital's codes, category and profile."""
    out: Resource = {
        "resourceType": "Observation",
        "id": resource_id,
        "meta": meta(updated, c.us_core(vital.profile) if vital.profile else None),
        "status": status,
        "category": _category(vital.category),
        "code": {
            "coding": [c.coding(s, code, display) for s, code, display in vital.codes],
            "text": vital.codes[0][2],
        },
        "subject": reference("Patient", patient_id),
        "effectiveDateTime": instant(when),
    }
    if encounter is not None:
        out["encounter"] = reference("Encounter", encounter)
    if performer is not None:
        out["performer"] = [reference("Practitioner", performer)]
    if value is not None:
        out["valueQuantity"] = value
    if components:
        out["component"] = components
    if note:
        out["note"] = [{"text": note}]
    return out


def _bp_components(systolic: int, diastolic: int) -> list[dict[str, Any]]:
    return [
        {
            "code": {"coding": [c.coding(c.LOINC, c.BP_SYSTOLIC, "Systolic blood pressure")]},
            "valueQuantity": _quantity(systolic, "mm[Hg]", "mm[Hg]"),
        },
        {
            "code": {"coding": [c.coding(c.LOINC, c.BP_DIASTOLIC, "Diastolic blood pressure")]},
            "valueQuantity": _quantity(diastolic, "mm[Hg]", "mm[Hg]"),
        },
    ]


def _reading_builder(vital: Vital) -> Callable[[MonitoringEntry, BuildContext], Resource]:
    def build(row: MonitoringEntry, ctx: BuildContext) -> Resource:
        common: dict[str, Any] = {
            "resource_id": f"{vital.prefix}-{row.pk}",
            "patient_id": row.session.patient_id,
            "when": row.taken_at,
            "vital": vital,
            "updated": row.recorded_at,
            "performer": row.recorded_by_id,
            "encounter": row.session_id,
        }
        if vital is BP:
            return observation(
                **common, components=_bp_components(row.systolic or 0, row.diastolic or 0)
            )
        value = getattr(row, vital.field)
        if vital.ucum is None:
            return {**observation(**common), "valueInteger": int(value)}
        return observation(**common, value=_quantity(value, vital.unit or "", vital.ucum))

    return build


def _code_filter(vital: Vital) -> Callable[[str | None, str], Q | None]:
    def matches(system: str | None, code: str) -> Q | None:
        hit = any((system in (None, s)) and code == k for s, k, _ in vital.codes)
        return Q() if hit else None

    return matches


def _category_filter(category: str) -> Callable[[str | None, str], Q | None]:
    def matches(system: str | None, code: str) -> Q | None:
        return Q() if system in (None, c.OBSERVATION_CATEGORY) and code == category else None

    return matches


def _final_only(value: str) -> Q | None:
    return Q() if value == "final" else None


def _reading_source(vital: Vital) -> Source:
    not_null = Q(**{f"{vital.field}__isnull": False})
    if vital is BP:
        not_null &= Q(diastolic__isnull=False)
    return Source(
        prefix=vital.prefix,
        model=MonitoringEntry,
        build=_reading_builder(vital),
        base=not_null,
        patient_lookup="session__patient_id",
        date_lookup="taken_at",
        updated=F("recorded_at"),
        related=("session",),
        code=_code_filter(vital),
        status=_final_only,
        category=_category_filter(vital.category),
    )


# --- body measurements --------------------------------------------------------------------------

WEIGHT = Vital(
    "wt", "weight_kg", ((c.LOINC, c.BODY_WEIGHT, "Body weight"),), "kg", "kg", "us-core-body-weight"
)
HEIGHT = Vital(
    "ht", "height_cm", ((c.LOINC, c.BODY_HEIGHT, "Body height"),), "cm", "cm", "us-core-body-height"
)


def _measurement_builder(vital: Vital) -> Callable[[BodyMeasurement, BuildContext], Resource]:
    def build(row: BodyMeasurement, ctx: BuildContext) -> Resource:
        return observation(
            resource_id=f"{vital.prefix}-{row.pk}",
            patient_id=row.patient_id,
            when=row.measured_on,
            vital=vital,
            updated=row.voided_at or row.recorded_at,
            value=_quantity(getattr(row, vital.field), vital.unit or "", vital.ucum or ""),
            status="entered-in-error" if row.voided_at else "final",
            performer=row.recorded_by_id,
            note=f"Voided: {row.void_reason}" if row.voided_at else None,
        )

    return build


def _measurement_status(value: str) -> Q | None:
    if value == "final":
        return Q(voided_at__isnull=True)
    if value == "entered-in-error":
        return Q(voided_at__isnull=False)
    return None


def _measurement_source(vital: Vital) -> Source:
    from django.db.models.functions import Coalesce

    return Source(
        prefix=vital.prefix,
        model=BodyMeasurement,
        build=_measurement_builder(vital),
        base=Q(**{f"{vital.field}__isnull": False}),
        date_lookup="measured_on",
        updated=Coalesce("voided_at", "recorded_at"),
        code=_code_filter(vital),
        status=_measurement_status,
        category=_category_filter(VITAL_SIGNS),
    )


# --- rating scales ------------------------------------------------------------------------------


def scale_resource(row: ScaleResponse, ctx: BuildContext) -> Resource:
    """A scored rating scale: the total (or, for the C-SSRS screener, the risk level)."""
    instrument = load_instruments()[row.instrument_id]
    code = instrument.total_code
    codings = [c.coding(c.system_url(code.system), code.code)] if code else []
    codings.append(c.coding(c.LOCAL, f"{instrument.id}-total", f"{instrument.short_name} total"))
    out: Resource = {
        "resourceType": "Observation",
        "id": f"scale-{row.pk}",
        "meta": meta(row.recorded_at, c.us_core("us-core-observation-screening-assessment")),
        "status": "final",
        "category": [
            {"coding": [c.coding(c.OBSERVATION_CATEGORY, SURVEY, "Survey")]},
            {"coding": [c.coding(c.US_CORE_CATEGORY, "functional-status", "Functional Status")]},
        ],
        "code": {"coding": codings, "text": f"{instrument.short_name} result"},
        "subject": reference("Patient", row.patient_id),
        "effectiveDateTime": instant(row.recorded_at),
        "derivedFrom": [reference("QuestionnaireResponse", row.pk)],
        "interpretation": [{"text": row.band}],
    }
    if instrument.answer_kind == "yes_no":
        out["valueCodeableConcept"] = {"text": row.band}
    else:
        out["valueInteger"] = row.total
    if row.entered_by_id:
        out["performer"] = [reference("Practitioner", row.entered_by_id)]
    return out


def _scale_code(system: str | None, code: str) -> Q | None:
    wanted = []
    for instrument in load_instruments().values():
        total = instrument.total_code
        if total and system in (None, c.system_url(total.system)) and code == total.code:
            wanted.append(instrument.id)
        if system in (None, c.LOCAL) and code == f"{instrument.id}-total":
            wanted.append(instrument.id)
    return Q(instrument_id__in=wanted) if wanted else None


def _scale_category(system: str | None, code: str) -> Q | None:
    if system in (None, c.OBSERVATION_CATEGORY) and code == SURVEY:
        return Q()
    if system in (None, c.US_CORE_CATEGORY) and code == "functional-status":
        return Q()
    return None


SCALES = Source(
    prefix="scale",
    model=ScaleResponse,
    build=scale_resource,
    date_lookup="recorded_at",
    updated=F("recorded_at"),
    code=_scale_code,
    status=_final_only,
    category=_scale_category,
)


# --- baseline vitals from the chart ------------------------------------------------------------

TEMPERATURE = Vital(
    "temp",
    "temperature_c",
    ((c.LOINC, c.BODY_TEMPERATURE, "Body temperature"),),
    "Cel",
    "Cel",
    "us-core-body-temperature",
)
BASELINE_FIELDS = (
    (BP, "systolic_mmhg"),
    (READING_VITALS[1], "heart_rate_bpm"),
    (READING_VITALS[2], "spo2_percent"),
    (READING_VITALS[3], "respiratory_rate"),
    (TEMPERATURE, "temperature_c"),
)


def baseline_resources(row: ChartSection, ctx: BuildContext) -> list[Resource]:
    """The chart's baseline vital signs (as recorded at screening), one Observation each."""
    data = row.data or {}
    when = parse_datetime(str(data.get("measured_at", ""))) or row.updated_at
    out = []
    for vital, key in BASELINE_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        common: dict[str, Any] = {
            "resource_id": f"base-{row.pk}-{vital.prefix}",
            "patient_id": row.patient_id,
            "when": when,
            "vital": vital,
            "updated": row.updated_at,
            "performer": row.updated_by_id,
        }
        if vital is BP:
            out.append(
                observation(
                    **common,
                    components=_bp_components(int(value), int(data.get("diastolic_mmhg", 0))),
                )
            )
        else:
            out.append(
                observation(
                    **common,
                    value=_quantity(Decimal(str(value)), vital.unit or "", vital.ucum or ""),
                )
            )
    return out


def _baseline_code(system: str | None, code: str) -> Q | None:
    vitals = [vital for vital, _ in BASELINE_FIELDS]
    return Q() if any(_code_filter(v)(system, code) is not None for v in vitals) else None


BASELINE = Source(
    prefix="base",
    model=ChartSection,
    build=baseline_resources,
    base=Q(section="baseline_vitals"),
    date_lookup="updated_at",
    updated=F("updated_at"),
    code=_baseline_code,
    status=_final_only,
    category=_category_filter(VITAL_SIGNS),
    expands=True,
)

OBSERVATION_SOURCES = (
    *(_reading_source(v) for v in READING_VITALS if _has_field(MonitoringEntry, v.field)),
    _measurement_source(WEIGHT),
    _measurement_source(HEIGHT),
    SCALES,
    BASELINE,
)

register(
    ResourceType(
        name="Observation",
        sources=OBSERVATION_SOURCES,
        permission=Permission.CHART_VIEW,
        params=(
            *SUBJECT_PARAMS,
            SearchParam("code", "token"),
            SearchParam("category", "category"),
            SearchParam("date", "date"),
            SearchParam("status", "status"),
        ),
        includes=(
            *SUBJECT_INCLUDES,
            Include("encounter", "encounter", "Encounter"),
        ),
        profile=c.us_core("us-core-vital-signs"),
        documentation=(
            "Vital signs from session readings, body measurements and the chart's baseline "
            "vitals (LOINC/UCUM); rating-scale results (PHQ-9 44261-6, GAD-7 70274-6, C-SSRS "
            "93374-7; local codes where the LOINC code is not confirmed)."
        ),
    )
)
