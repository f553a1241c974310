"""API schemas for screenings."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

from ketacare.kernel.bounds import BoundedIn
from ketacare.patients.schemas import UserRef


class ScreeningRunIn(BoundedIn):
    """Which protocol to screen the chart for."""

    model_config = ConfigDict(extra="forbid")

    protocol_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="A protocol id, e.g. iv_induction_6x or esketamine_trd."
    )


class ScreeningSignIn(BoundedIn):
    """A prescriber's signature; short of eligible, with the documented reason."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version you read; a stale one answers 409.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""


class ScreeningCosignIn(BoundedIn):
    """A second prescriber's co-signature of an ineligible screening."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version you read; a stale one answers 409.")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""


class FiredRuleOut(Schema):
    """A rule that applied: severity (exclude, caution, info), reason and source."""

    rule_id: str
    severity: str
    reason: str
    citation: str
    facts_used: list[str]
    detail: str


class EntryReadingOut(Schema):
    """How one recorded entry was read through the vocabularies."""

    fact: str
    entry: str
    understood: bool
    meaning: str


class ScreeningOut(Schema):
    """A screening: the engine's verdict, every fired rule, missing facts, and signatures."""

    id: int
    patient_id: int
    protocol_id: str
    protocol_version: str
    protocol_title: str
    route: str
    status: str = Field(description="eligible, needs review or ineligible")
    fired: list[FiredRuleOut]
    missing_facts: list[str]
    unrecognised: list[EntryReadingOut] = Field(
        description="Recorded entries the screening could not read; each makes it needs review."
    )
    readings: list[EntryReadingOut] = Field(description="How every recorded entry was read.")
    notes: list[str]
    facts: dict[str, Any]
    facts_used: list[str]
    run_by: UserRef
    run_at: datetime
    signed_by: UserRef | None
    signed_at: datetime | None
    sign_reason: str
    cosigned_by: UserRef | None
    cosigned_at: datetime | None
    cosign_note: str
    superseded_at: datetime | None
    version: int
    out_of_date: list[str] = Field(
        description="Facts it used that have changed in the chart since (empty = current)."
    )
    allows_treatment: bool
    waiting_for: str = Field(description="What must happen before it allows treatment.")
