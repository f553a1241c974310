"""API schemas for consent documents and signatures."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, field_validator

from ketacare.consent.models import ConsentRoute
from ketacare.consent.signers import RepresentativeRelationship
from ketacare.kernel.bounds import BoundedIn
from ketacare.patients.schemas import UserRef


class ConsentPublishIn(BoundedIn):
    """A new version of the clinic's consent text for a route."""

    model_config = ConfigDict(extra="forbid")

    route: ConsentRoute
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(min_length=20, max_length=100_000)]
    change_note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    based_on: int = Field(
        ge=0,
        description="The version number you edited (0 for the first); a stale one answers 409.",
    )


class ConsentVersionOut(Schema):
    """One published, immutable version of a consent text."""

    id: int
    document_id: int
    route: str
    number: int
    title: str
    body: str
    body_sha256: str
    change_note: str
    published_at: datetime
    published_by: UserRef

    @staticmethod
    def resolve_route(obj: object) -> str:
        return str(obj.document.route)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_title(obj: object) -> str:
        return str(obj.title or obj.document.title)  # type: ignore[attr-defined]


class ConsentVersionSummaryOut(Schema):
    """A version without its text."""

    id: int
    number: int
    body_sha256: str
    change_note: str
    published_at: datetime


class ConsentDocumentOut(Schema):
    """A route's consent document and its versions, newest first."""

    id: int
    route: str
    title: str
    versions: list[ConsentVersionSummaryOut]


class ConsentSignatureIn(BoundedIn):
    """The patient's typed signature on a version, when, and the staff witness."""

    model_config = ConfigDict(extra="forbid")

    document_version_id: int = Field(ge=1, description="Must be the route's current version.")
    signed_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)
    ] = Field(description="The signer's full name, typed by the signer (the patient's own name).")
    signed_at: datetime = Field(description="When the patient signed, with its time zone.")
    witnessed_by_id: int = Field(ge=1, description="A staff member of the clinic.")
    representative_name: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=200)
    ] = Field("", description="When a representative signs: their full name (= `signed_name`).")
    representative_relationship: RepresentativeRelationship | Literal[""] = Field(
        "", description="When a representative signs: how they are related to the patient."
    )

    @field_validator("signed_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-03-01T09:30:00-05:00)")
        return value


class ConsentWithdrawIn(BoundedIn):
    """Why the patient withdraws consent."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class ConsentSignatureOut(Schema):
    """A signature: what version was signed (with its hash), by whom, witnessed by whom."""

    id: int
    patient_id: int
    route: str
    document_version_id: int
    version_number: int
    body_sha256: str
    signed_name: str
    signed_at: datetime
    witnessed_by: UserRef
    recorded_by: UserRef
    recorded_at: datetime
    withdrawn_at: datetime | None
    representative_name: str
    representative_relationship: str
    entered_in_error_at: datetime | None
    entered_in_error_reason: str
    withdrawn_by: UserRef | None
    withdrawn_reason: str

    @staticmethod
    def resolve_route(obj: object) -> str:
        return str(obj.document_version.document.route)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_version_number(obj: object) -> int:
        return int(obj.document_version.number)  # type: ignore[attr-defined]


class ConsentSignedCopyOut(ConsentSignatureOut):
    """A signature with the exact text that was signed."""

    title: str
    body: str

    @staticmethod
    def resolve_title(obj: object) -> str:
        version = obj.document_version  # type: ignore[attr-defined]
        return str(version.title or version.document.title)

    @staticmethod
    def resolve_body(obj: object) -> str:
        return str(obj.document_version.body)  # type: ignore[attr-defined]


class RouteConsentOut(Schema):
    """A patient's standing for one route."""

    route: str
    state: str = Field(description="none_published, not_signed, needs_reconsent or signed")
    has_consent: bool
    needs_reconsent: bool
    signature_id: int | None
    latest_version_id: int | None
    latest_version_number: int | None


class PatientConsentsOut(Schema):
    """A patient's consent per route, and every signature."""

    patient_id: int
    routes: list[RouteConsentOut]
    signatures: list[ConsentSignatureOut]
