"""API schemas for patients: unknown fields are refused, ranges live in the types."""

from datetime import date, datetime
from typing import Annotated

from ninja import Schema
from pydantic import (
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ketacare.patients.models import PatientSexChoices

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^[0-9+() .-]*$")
]


def _not_in_future(value: date | None) -> date | None:
    if value is not None and value > date.today():  # noqa: DTZ011 - a birth date is a calendar date
        raise ValueError("date of birth cannot be in the future")
    if value is not None and value.year < 1900:
        raise ValueError("date of birth must be after 1900")
    return value


class PatientIn(Schema):
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

    _dob = field_validator("date_of_birth")(_not_in_future)


class PatientPatchIn(Schema):
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
