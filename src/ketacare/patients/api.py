"""The patients API: thin, every operation guarded by one permission."""

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.patients import selectors, services
from ketacare.patients.models import Patient
from ketacare.patients.schemas import PatientIn, PatientOut, PatientPatchIn

router = Router(tags=["patients"])


class PatientListParams(Schema):
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
def create_patient(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    """Register a patient in your clinic."""
    data = payload.model_dump()
    data["email"] = data["email"] or ""
    patient = services.patient_create(actor=api_actor(request), **data)
    return Status(201, patient)


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
