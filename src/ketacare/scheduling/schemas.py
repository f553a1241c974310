"""API schemas for chairs, courses and appointments: unknown fields refused, ranges in types."""

from datetime import date, datetime, time
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from ketacare.kernel.bounds import BoundedIn
from ketacare.kernel.idempotency import IdempotencyKey
from ketacare.scheduling.models import Appointment, Course

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Sessions = Annotated[int, Field(ge=1, le=60, description="Fewer sessions than the protocol's.")]
Version = Annotated[int, Field(ge=1, description="The version you read; a stale one answers 409.")]


class ChairIn(BoundedIn):
    """A new chair in a room."""

    model_config = ConfigDict(extra="forbid")

    room: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class ChairOut(Schema):
    """A chair as the API returns it."""

    id: int
    room: str
    label: str
    is_active: bool


class CourseStartIn(BoundedIn):
    """Start a course: the protocol's sessions are proposed and booked in one chair at one time."""

    model_config = ConfigDict(extra="forbid")

    patient_id: int = Field(ge=1)
    protocol_id: Annotated[str, StringConstraints(max_length=64)]
    start_on: date
    chair_id: int = Field(ge=1)
    first_time: time = Field(description="Local wall-clock time of every session, e.g. 09:00.")
    sessions: Sessions | None = None
    idempotency_key: IdempotencyKey = ""


class BoosterCourseIn(BoundedIn):
    """Start a booster course after this (completed or stopped) course."""

    model_config = ConfigDict(extra="forbid")

    protocol_id: Annotated[str, StringConstraints(max_length=64)]
    start_on: date
    chair_id: int = Field(ge=1)
    first_time: time
    sessions: Sessions | None = None
    idempotency_key: IdempotencyKey = ""


class CourseStopIn(BoundedIn):
    """Stop an active course; its future bookings are cancelled."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    reason: Reason


class BoosterIn(BoundedIn):
    """Add a booster session to an active course."""

    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime
    chair_id: int = Field(ge=1)
    idempotency_key: IdempotencyKey = ""


class AppointmentOut(Schema):
    """An appointment: initials, never names (fetch the patient for more)."""

    id: int
    patient_id: int
    patient_initials: str
    course_id: int | None
    chair_id: int | None
    chair: str | None
    therapist_id: int | None
    therapist: str | None
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    cancel_reason: str
    rescheduled_from_id: int | None
    reschedule_reason: str
    version: int

    @staticmethod
    def resolve_patient_initials(obj: Appointment) -> str:
        return obj.patient.initials

    @staticmethod
    def resolve_chair(obj: Appointment) -> str | None:
        return str(obj.chair) if obj.chair_id else None

    @staticmethod
    def resolve_therapist(obj: Appointment) -> str | None:
        return obj.therapist.display_name() if obj.therapist is not None else None


class CourseOut(Schema):
    """A course with its appointments."""

    id: int
    patient_id: int
    protocol_id: str
    protocol_version: str
    route: str
    kind: str
    status: str
    parent_id: int | None
    screening_id: int
    consent_id: int
    planned_sessions: int | None
    started_on: date
    ended_at: datetime | None
    end_reason: str
    version: int
    appointments: list[AppointmentOut]

    @staticmethod
    def resolve_appointments(obj: Course) -> list[Appointment]:
        prefetched = getattr(obj, "_prefetched_objects_cache", {})
        if "appointments" in prefetched:
            return list(obj.appointments.all())
        return list(obj.appointments.select_related("patient", "chair").order_by("starts_at", "id"))


class AppointmentIn(BoundedIn):
    """Book an appointment; a session of a course is checked against its protocol."""

    model_config = ConfigDict(extra="forbid")

    patient_id: int = Field(ge=1)
    starts_at: AwareDatetime
    chair_id: int | None = Field(None, ge=1)
    course_id: int | None = Field(None, ge=1)
    kind: Literal["treatment", "booster", "consult", "integration"] | None = None
    therapist_id: int | None = Field(
        None, ge=1, description="The clinic's therapist an integration session is booked with."
    )
    minutes: int | None = Field(None, ge=5, le=720)
    idempotency_key: IdempotencyKey = ""


class RescheduleIn(BoundedIn):
    """Move a booked appointment; the old one is kept, cancelled as "rescheduled"."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    starts_at: AwareDatetime
    reason: Reason
    chair_id: int | None = Field(None, ge=1)


class CancelIn(BoundedIn):
    """Cancel an appointment with a reason."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    reason: Reason


class StatusIn(BoundedIn):
    """Move an appointment along its state machine."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["arrived", "in_session", "completed", "no_show"]
    version: Version | None = None


class SlotProblemOut(Schema):
    """Why a proposed session cannot be booked as asked."""

    code: str
    field: str
    message: str


class ProposedSessionOut(Schema):
    """One proposed session."""

    number: int
    day: date
    starts_at: datetime | None
    ends_at: datetime | None
    bookable: bool
    problems: list[SlotProblemOut]


class ProposalOut(Schema):
    """The core's proposed sessions for a protocol from a start day."""

    protocol_id: str
    protocol_version: str
    session_minutes: int
    bookable: bool
    sessions: list[ProposedSessionOut]


class ClinicScheduleOut(Schema):
    """The clinic's opening days and hours, calendar slot, and chair time per route."""

    open_weekdays: list[int]
    opens_at: time
    closes_at: time
    slot_minutes: int
    session_minutes: dict[str, int]
    effective_session_minutes: dict[str, int]
    version: int


class ClinicScheduleIn(BoundedIn):
    """Change the clinic's schedule settings."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    open_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    opens_at: time
    closes_at: time
    slot_minutes: Literal[10, 15, 20, 30, 60] = 30
    session_minutes: dict[str, Annotated[int, Field(ge=1, le=720)]] = Field(default_factory=dict)


class FeedOut(Schema):
    """A new secret feed URL: shown once (only its hash is kept)."""

    url: str
