"""API schemas for patients: unknown fields are refused, ranges live in the types."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import (
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ketacare.kernel import clock
from ketacare.kernel.bounds import BoundedIn
from ketacare.patients.models import HEIGHT_CM_RANGE, WEIGHT_KG_RANGE, PatientSexChoices

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^[0-9+() .-]*$")
]


def _not_in_future(value: date | None) -> date | None:
    if value is not None and value > clock.today():
        raise ValueError("date of birth cannot be in the future")
    if value is not None and value.year < 1900:
        raise ValueError("date of birth must be after 1900")
    return value


class PatientIn(BoundedIn):
    """A new patient."""

    model_config = ConfigDict(extra="forbid")

    given_name: Name
    family_name: Name
    preferred_name: Annotated[str, StringConstraints(max_length=100)] = ""
    date_of_birth: date
    sex: PatientSexChoices = PatientSexChoices.UNKNOWN
    email: EmailStr | None = None
    phone: Phone = ""
    mrn: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^[A-Za-z0-9-]*$")
    ] = ""
    confirm_not_duplicate: bool = Field(
        False,
        description="Register even though a chart with the same name and birth date, phone or "
        "email exists (otherwise 409 `possible_duplicate` names it).",
    )

    _dob = field_validator("date_of_birth")(_not_in_future)


class PatientMergeIn(BoundedIn):
    """Merge the chart `merge_id` into the chart in the path; `reason` says why they are one."""

    model_config = ConfigDict(extra="forbid")

    merge_id: int
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class PatientPatchIn(BoundedIn):
    """A change to a patient's demographics; `version` is the one you read."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version you read; a stale one answers 409.")
    given_name: Name | None = None
    family_name: Name | None = None
    preferred_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    date_of_birth: date | None = None
    sex: PatientSexChoices | None = None
    email: EmailStr | None = None
    phone: Phone | None = None

    _dob = field_validator("date_of_birth")(_not_in_future)

    @model_validator(mode="after")
    def _required_fields_are_not_null(self) -> "PatientPatchIn":
        for name in self.model_fields_set:
            if name != "email" and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class PatientOut(Schema):
    """A patient as the API returns it."""

    id: int
    mrn: str
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: date
    sex: str
    email: str
    phone: str
    version: int
    created_at: datetime
    updated_at: datetime


# --- the chart ----------------------------------------------------------------------------------


class UserRef(Schema):
    """A member of staff, as shown in signed and changed records."""

    id: int
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.display_name())


class SectionOut(Schema):
    """A chart section: its data (None until recorded) and the version to send back on change."""

    section: str
    version: int = Field(description="Send this back to change the section; 0 = not recorded.")
    data: dict[str, Any] | None
    updated_at: datetime | None
    updated_by: UserRef | None


class RevisionOut(Schema):
    """One saved state of a chart section."""

    section: str
    version: int
    data: dict[str, Any]
    changed_fields: list[str]
    changed_by: UserRef
    changed_at: datetime


class MeasurementIn(BoundedIn):
    """A dated height and/or weight."""

    model_config = ConfigDict(extra="forbid")

    measured_on: date
    height_cm: Decimal | None = Field(
        None, ge=HEIGHT_CM_RANGE[0], le=HEIGHT_CM_RANGE[1], decimal_places=1
    )
    weight_kg: Decimal | None = Field(
        None, ge=WEIGHT_KG_RANGE[0], le=WEIGHT_KG_RANGE[1], decimal_places=1
    )
    confirm_implausible: bool = Field(
        False, description="Re-measured: keep a weight or BMI the core challenged."
    )

    @model_validator(mode="after")
    def _height_or_weight(self) -> "MeasurementIn":
        if self.height_cm is None and self.weight_kg is None:
            raise ValueError("give height_cm, weight_kg or both")
        return self


class MeasurementOut(Schema):
    """A recorded measurement; a voided one no longer counts."""

    id: int
    measured_on: date
    height_cm: Decimal | None
    weight_kg: Decimal | None
    recorded_by: UserRef
    recorded_at: datetime
    voided_at: datetime | None
    voided_by: UserRef | None
    void_reason: str


class VoidIn(BoundedIn):
    """Why a measurement is void."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class IntakeStepOut(Schema):
    """One step of the intake."""

    key: str
    label: str
    done: bool
    applicable: bool


class IntakeOut(Schema):
    """The intake's status and steps in the clinic's order."""

    status: str
    done: int
    total: int
    steps: list[IntakeStepOut]


class ChartOut(Schema):
    """The sections of the chart the caller may see, and the intake's progress."""

    patient_id: int
    intake: IntakeOut
    height_cm: Decimal | None
    weight_kg: Decimal | None
    sections: list[SectionOut]


class IntakeFactsOut(Schema):
    """The chart as the eligibility engine sees it; null means not recorded."""

    facts: dict[str, Any]
    missing: list[str]
