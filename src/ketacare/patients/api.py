"""The patients API: demographics, the chart's sections, measurements and the intake."""

from typing import Any

from django.http import HttpRequest
from ninja import Header, Query, Router, Status
from pydantic import ConfigDict, Field, create_model

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.kernel.bounds import BoundedIn
from ketacare.patients import selectors, services
from ketacare.patients.duplicates import patient_merge
from ketacare.patients.facts import facts_to_json
from ketacare.patients.models import (
    BodyMeasurement,
    ChartSection,
    ChartSectionKey,
    ChartSectionRevision,
    Patient,
)
from ketacare.patients.schemas import (
    ChartOut,
    IntakeFactsOut,
    IntakeOut,
    MeasurementIn,
    MeasurementOut,
    PatientIn,
    PatientMergeIn,
    PatientOut,
    PatientPatchIn,
    RevisionOut,
    SectionOut,
    VoidIn,
)
from ketacare.patients.sections import SECTION_SPECS, SectionSpec

router = Router(tags=["patients"])


class PatientListParams(BoundedIn):
    search: str = Field("", max_length=100)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@operation(router.get, "/patients", Permission.PATIENT_LIST, response=list[PatientOut])
def list_patients(request: HttpRequest, params: Query[PatientListParams]) -> list[Patient]:
    """The clinic's patients, by name; `search` matches names or an exact MRN."""
    return selectors.patient_list(
        actor=api_actor(request), search=params.search, limit=params.limit, offset=params.offset
    )


@operation(router.post, "/patients", Permission.PATIENT_CREATE, response={201: PatientOut})
def create_patient(
    request: HttpRequest,
    payload: PatientIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=64),  # type: ignore[type-arg]
) -> Status[Patient]:
    """Register a patient in your clinic (409 `possible_duplicate` names a chart it may repeat)."""
    data = payload.model_dump()
    data["email"] = data["email"] or ""
    patient = services.patient_create(
        actor=api_actor(request), idempotency_key=idempotency_key, **data
    )
    return Status(201, patient)


@operation(
    router.post, "/patients/{patient_id}/merge", Permission.PATIENT_MERGE, response=PatientOut
)
def merge_patient(request: HttpRequest, patient_id: int, payload: PatientMergeIn) -> Patient:
    """Merge a duplicate chart (`merge_id`) into this one: its records move here, audited."""
    return patient_merge(
        actor=api_actor(request),
        keep_id=patient_id,
        merge_id=payload.merge_id,
        reason=payload.reason,
    )


@operation(router.get, "/patients/{patient_id}", Permission.PATIENT_VIEW, response=PatientOut)
def get_patient(request: HttpRequest, patient_id: int) -> Patient:
    """One patient of your clinic (404 for any other)."""
    return selectors.patient_get_for_actor(actor=api_actor(request), patient_id=patient_id)


@operation(router.patch, "/patients/{patient_id}", Permission.PATIENT_EDIT, response=PatientOut)
def patch_patient(request: HttpRequest, patient_id: int, payload: PatientPatchIn) -> Patient:
    """Change demographics; send the `version` you read (409 if it is stale)."""
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    if "email" in changes and changes["email"] is None:
        changes["email"] = ""
    return services.patient_update(
        actor=api_actor(request), patient_id=patient_id, version=version, changes=changes
    )


# --- the chart ----------------------------------------------------------------------------------


def _section_out(section: str, row: ChartSection | None) -> dict[str, Any]:
    return {
        "section": section,
        "version": row.version if row else 0,
        "data": row.data if row else None,
        "updated_at": row.updated_at if row else None,
        "updated_by": row.updated_by if row else None,
    }


def _intake_out(progress: selectors.IntakeProgress) -> dict[str, Any]:
    return {
        "status": progress.status,
        "done": progress.done_count,
        "total": progress.total,
        "steps": [
            {"key": s.key, "label": s.label, "done": s.done, "applicable": s.applicable}
            for s in progress.steps
        ],
    }


@operation(router.get, "/patients/{patient_id}/chart", Permission.PATIENT_VIEW, response=ChartOut)
def get_chart(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """The chart sections your role may see (front desk: contacts only) and intake progress."""
    chart = selectors.chart_for_actor(actor=api_actor(request), patient_id=patient_id)
    return {
        "patient_id": chart.patient.pk,
        "intake": _intake_out(chart.progress),
        "height_cm": chart.height_cm,
        "weight_kg": chart.weight_kg,
        "sections": [_section_out(key, chart.sections.get(key)) for key in chart.visible_sections],
    }


def _register_section(spec: SectionSpec) -> None:
    """GET and PUT for one section, each with the section's own schema in the OpenAPI."""
    name = "".join(part.capitalize() for part in spec.key.split("_"))
    section_in = create_model(
        f"{name}SectionIn",
        __config__=ConfigDict(extra="forbid"),
        version=(
            int,
            Field(ge=0, description="The version you read (0 when not recorded yet)."),
        ),
        data=(spec.schema, ...),
    )
    nullable_data: Any = spec.schema | None
    section_out = create_model(
        f"{name}SectionOut",
        __base__=SectionOut,
        data=(nullable_data, None),
    )

    def get_section(request: HttpRequest, patient_id: int) -> dict[str, Any]:
        _, row = selectors.chart_section_for_actor(
            actor=api_actor(request), patient_id=patient_id, section=spec.key
        )
        return _section_out(spec.key, row)

    def put_section(request: HttpRequest, patient_id: int, payload: Any) -> dict[str, Any]:
        row = services.chart_section_save(
            actor=api_actor(request),
            patient_id=patient_id,
            section=spec.key,
            version=payload.version,
            data=payload.data,
        )
        return _section_out(spec.key, row)

    get_section.__doc__ = f"{spec.label}: {spec.help}"
    put_section.__doc__ = (
        f"Replace {spec.label.lower()}; send the `version` you read (0 the first time). "
        "A stale version answers 409; the change is kept in the section's history."
    )
    put_section.__annotations__["payload"] = section_in
    path = f"/patients/{{patient_id}}/chart/{spec.key}"
    operation(
        router.get,
        path,
        spec.view_permission,
        response=section_out,
        operation_id=f"chart_{spec.key}_get",
    )(get_section)
    operation(
        router.put,
        path,
        spec.edit_permission,
        response=section_out,
        operation_id=f"chart_{spec.key}_put",
    )(put_section)


for _spec in SECTION_SPECS:
    _register_section(_spec)


class HistoryParams(BoundedIn):
    section: ChartSectionKey
    limit: int = Field(50, ge=1, le=200)


@operation(
    router.get,
    "/patients/{patient_id}/chart-history",
    Permission.CHART_VIEW,
    response=list[RevisionOut],
)
def chart_history(
    request: HttpRequest, patient_id: int, params: Query[HistoryParams]
) -> list[ChartSectionRevision]:
    """Every saved state of one section, newest first: the data, what changed, who and when."""
    _, revisions = selectors.chart_section_history(
        actor=api_actor(request),
        patient_id=patient_id,
        section=params.section.value,
        limit=params.limit,
    )
    return revisions


@operation(
    router.get,
    "/patients/{patient_id}/measurements",
    Permission.CHART_VIEW,
    response=list[MeasurementOut],
)
def list_measurements(request: HttpRequest, patient_id: int) -> list[BodyMeasurement]:
    """Heights and weights, newest first (voided entries included, marked)."""
    actor = api_actor(request)
    chart = selectors.chart_for_actor(actor=actor, patient_id=patient_id)
    return selectors.measurements_of(patient=chart.patient, limit=200)


@operation(
    router.post,
    "/patients/{patient_id}/measurements",
    Permission.CHART_EDIT,
    response={201: MeasurementOut},
)
def record_measurement(
    request: HttpRequest, patient_id: int, payload: MeasurementIn
) -> Status[BodyMeasurement]:
    """Record a dated height and/or weight (the latest is what dosing uses)."""
    measurement = services.measurement_record(
        actor=api_actor(request),
        patient_id=patient_id,
        measured_on=payload.measured_on,
        height_cm=payload.height_cm,
        weight_kg=payload.weight_kg,
        confirm_implausible=payload.confirm_implausible,
    )
    return Status(201, measurement)


@operation(
    router.post,
    "/measurements/{measurement_id}/void",
    Permission.CHART_EDIT,
    response=MeasurementOut,
)
def void_measurement(request: HttpRequest, measurement_id: int, payload: VoidIn) -> BodyMeasurement:
    """Void a measurement entered in error (it stays visible, marked, and stops counting)."""
    return services.measurement_void(
        actor=api_actor(request), measurement_id=measurement_id, reason=payload.reason
    )


@operation(router.get, "/patients/{patient_id}/intake", Permission.PATIENT_VIEW, response=IntakeOut)
def get_intake(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """The intake's status (not started, in progress, complete) and which steps are done."""
    chart = selectors.chart_for_actor(actor=api_actor(request), patient_id=patient_id)
    return _intake_out(chart.progress)


@operation(
    router.post, "/patients/{patient_id}/intake/complete", Permission.CHART_EDIT, response=IntakeOut
)
def complete_intake(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """Sign the intake off as complete; 422 naming the steps still to do."""
    actor = api_actor(request)
    services.intake_complete(actor=actor, patient_id=patient_id)
    chart = selectors.chart_for_actor(actor=actor, patient_id=patient_id)
    return _intake_out(chart.progress)


@operation(
    router.get,
    "/patients/{patient_id}/intake-facts",
    Permission.CHART_VIEW,
    response=IntakeFactsOut,
)
def get_intake_facts(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """The chart as the eligibility engine reads it (null = not recorded, [] = none)."""
    chart = selectors.chart_for_actor(actor=api_actor(request), patient_id=patient_id)
    facts = facts_to_json(chart.facts())
    return {"facts": facts, "missing": [name for name, value in facts.items() if value is None]}
