"""API schemas for sessions: unknown fields are refused, input ranges live in the types.

The ranges here only catch typing errors (a systolic of 1200); whether a value is outside the
protocol's limits is the core's judgement, returned as alarms.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, model_validator

from ketacare.kernel.bounds import BoundedIn
from ketacare.treatment.models import (
    AdverseEventKind,
    AdverseEventOutcome,
    AdverseEventSeverity,
    Dissociation,
    InfusionChangeKind,
    MonitoringAction,
    PregnancyTest,
    StartDecisionChoices,
)
from ketacare.treatment.vitals import TYPO_BOUNDS

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Version = Annotated[
    int, Field(ge=1, description="The session version you decided on; a stale one answers 409.")
]


Systolic = Annotated[int, Field(ge=TYPO_BOUNDS["systolic"][0], le=TYPO_BOUNDS["systolic"][1])]
Diastolic = Annotated[int, Field(ge=TYPO_BOUNDS["diastolic"][0], le=TYPO_BOUNDS["diastolic"][1])]
HeartRate = Annotated[int, Field(ge=TYPO_BOUNDS["heart_rate"][0], le=TYPO_BOUNDS["heart_rate"][1])]
SpO2 = Annotated[int, Field(ge=TYPO_BOUNDS["spo2"][0], le=TYPO_BOUNDS["spo2"][1])]
RespiratoryRate = Annotated[
    int,
    Field(
        ge=TYPO_BOUNDS["respiratory_rate"][0],
        le=TYPO_BOUNDS["respiratory_rate"][1],
        description="Breaths per minute.",
    ),
]
Moaas = Annotated[int, Field(ge=0, le=5, description="MOAA/S 0-5 (Chernik 1990).")]
PositiveDecimal = Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=3)]


class In(BoundedIn):
    """Base of every request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class CheckInIn(In):
    """Check in for today's appointment, or (without one) for a course."""

    appointment_id: int | None = None
    course_id: int | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "CheckInIn":
        if (self.appointment_id is None) == (self.course_id is None):
            raise ValueError("give appointment_id or course_id (one of them)")
        return self


class PreDoseCheckIn(In):
    """Today's weight, vital signs, checklist, PHQ-9 (9 answers 0-3) and C-SSRS screener."""

    version: Version
    weight_kg: Annotated[Decimal, Field(gt=0, max_digits=5, decimal_places=1)] = Field(
        description="The weight as weighed, in the unit `weight_unit` names."
    )
    weight_unit: Literal["kg", "lb"] = Field(
        "kg", description="The unit of `weight_kg` as typed (lb is converted to kg)."
    )
    confirm_implausible: bool = Field(
        False,
        description="Re-weighed and re-measured: keep a weight or vital sign the core challenged.",
    )
    height_cm: Annotated[Decimal, Field(gt=0, max_digits=5, decimal_places=1)] | None = Field(
        None,
        description="Measured today; needed when the chart has none and the protocol's "
        "dosing weight uses height.",
    )
    systolic: Systolic
    diastolic: Diastolic
    heart_rate: HeartRate
    respiratory_rate: RespiratoryRate
    spo2: SpO2
    fasting_confirmed: bool
    escort_confirmed: bool
    escort_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    pregnancy_test: PregnancyTest
    medication_changes: bool
    medication_changes_note: Text = ""
    phq9_answers: list[int] = Field(min_length=9, max_length=9)
    cssrs_answers: list[bool] = Field(
        min_length=6,
        max_length=7,
        description="Q1-Q6 yes/no, then 'Q6 within the past 3 months' when Q6 is yes.",
    )
    taken_at: datetime | None = None


class StartDecisionIn(In):
    """A prescriber's decision on what holds the start."""

    version: Version
    decision: StartDecisionChoices
    reason: Reason


class DoseInputs(In):
    """What the core's dose calculation takes for the session's route (the rest is the chart)."""

    mg_per_kg: Annotated[Decimal, Field(gt=0, max_digits=6, decimal_places=3)] | None = None
    dose_mg: Annotated[Decimal, Field(gt=0, max_digits=7, decimal_places=1)] | None = None
    concentration_mg_per_ml: PositiveDecimal | None = None
    container_volume_ml: Annotated[Decimal, Field(gt=0, max_digits=7, decimal_places=1)] | None = (
        None
    )
    duration_min: Annotated[Decimal, Field(gt=0, max_digits=6, decimal_places=1)] | None = None
    override_reason: Text | None = None

    def inputs(self) -> dict[str, Any]:
        """The dose inputs that were given."""
        data = self.model_dump(exclude={"override_reason", "version"}, exclude_none=True)
        return dict(data)


class DoseOrderIn(DoseInputs):
    """The prescriber's order."""

    version: Version


class VersionIn(In):
    """A step that needs only the session version."""

    version: Version


class ReasonIn(In):
    """A step that needs the session version and a reason."""

    version: Version
    reason: Reason


class AdministrationIn(In):
    """What is given, as prepared and programmed (it must match the verified order)."""

    version: Version
    product: Short
    lot: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    concentration_mg_per_ml: PositiveDecimal | None = None
    volume_ml: PositiveDecimal | None = None
    rate_ml_per_h: PositiveDecimal | None = None
    started_at: datetime | None = None


class DeviceIn(In):
    """The next esketamine device."""

    version: Version
    administered_at: datetime | None = None


class InfusionChangeIn(In):
    """Pause, resume, slow (with the new rate) or stop, with a reason."""

    kind: InfusionChangeKind
    reason: Reason
    rate_ml_per_h: PositiveDecimal | None = None
    at: datetime | None = None
    monitoring_entry_id: int | None = None


class CompleteIn(In):
    """The infusion ran to its end."""

    stopped_at: datetime | None = None
    volume_infused_ml: Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)] | None = None


class MonitoringEntryIn(In):
    """A reading for the timeline; any measurement may be absent, but not all."""

    taken_at: datetime | None = None
    systolic: Systolic | None = None
    diastolic: Diastolic | None = None
    heart_rate: HeartRate | None = None
    respiratory_rate: RespiratoryRate | None = None
    spo2: SpO2 | None = None
    moaas: Moaas | None = None
    dissociation: Dissociation | Literal[""] = ""
    respiratory_depression: bool = False
    note: Text = ""
    confirm_implausible: bool = False


class MonitoringActionIn(In):
    """What was done about an alarm."""

    action: MonitoringAction
    note: Text = ""
    rate_ml_per_h: PositiveDecimal | None = None


class AdverseEventIn(In):
    """An adverse event."""

    kind: AdverseEventKind
    severity: AdverseEventSeverity
    outcome: AdverseEventOutcome
    onset_at: datetime | None = None
    description: Text = ""
    intervention: Text = ""


class DischargeIn(In):
    """Each of the protocol's discharge criteria, met or not; an override needs a prescriber."""

    version: Version
    criteria: dict[str, bool]
    escort_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    ready_at: datetime | None = Field(
        None, description="When the patient was clinically ready (esketamine: required by REMS)."
    )
    override_reason: Text = ""


class DayParams(BoundedIn):
    """Which day's sessions."""

    day: date | None = None


# --- responses ----------------------------------------------------------------------------------


class StaffRef(Schema):
    """Who did it."""

    id: int
    display_name: str

    @staticmethod
    def resolve_display_name(obj: Any) -> str:
        return str(obj.display_name())


class SessionOut(Schema):
    """A session's state."""

    id: int
    patient_id: int
    course_id: int
    appointment_id: int | None
    protocol_id: str
    protocol_version: str
    route: str
    status: str
    version: int
    checked_in_at: datetime
    checked_in_by: StaffRef
    dosing_started_at: datetime | None
    dosing_ended_at: datetime | None
    discharged_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str


class Alarm(Schema):
    """An alarm the core raised for a reading."""

    code: str
    message: str
    action: str


class MonitoringEntryOut(Schema):
    """A reading on the timeline, with its alarms and what was done about them."""

    id: int
    phase: str
    taken_at: datetime
    systolic: int | None
    diastolic: int | None
    heart_rate: int | None
    respiratory_rate: int | None
    spo2: int | None
    moaas: int | None
    dissociation: str
    respiratory_depression: bool
    note: str
    alarms: list[Alarm]
    recorded_by: StaffRef
    action: str
    action_note: str
    action_at: datetime | None


class ScaleOut(Schema):
    """A scored scale."""

    id: int
    instrument_id: str
    total: int
    band: str
    alerts: list[str]


class Concern(Schema):
    """A finding that holds the start."""

    code: str
    message: str
    blocking: bool


class PreDoseCheckOut(Schema):
    """The pre-dose checks."""

    id: int
    weight_kg: Decimal
    height_cm: Decimal | None
    vitals: MonitoringEntryOut
    fasting_confirmed: bool
    escort_confirmed: bool
    escort_name: str
    pregnancy_test: str
    medication_changes: bool
    medication_changes_note: str
    phq9: ScaleOut
    cssrs: ScaleOut
    concerns: list[Concern]
    recorded_by: StaffRef
    recorded_at: datetime


class StartDecisionOut(Schema):
    """A prescriber's start decision."""

    id: int
    decision: str
    reason: str
    concerns: list[Concern]
    decided_by: StaffRef
    decided_at: datetime


class DosePlanOut(Schema):
    """The core's dose plan, every intermediate step included (Decimals as strings)."""

    protocol_id: str
    route: str
    dose_mg: str
    steps: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    notes: list[str]
    override_reason: str | None
    mg_per_kg: str | None
    concentration_mg_per_ml: str | None
    volume_ml: str | None
    duration_min: str | None
    rate_ml_per_h: str | None
    delivered_dose_mg: str | None
    devices: int | None
    rest_between_devices_min: int | None
    requires_reason: bool


class DoseOrderOut(Schema):
    """An order, its calculation, and its verification."""

    id: int
    status: str
    route: str
    inputs: dict[str, Any]
    plan: dict[str, Any]
    dose_mg: Decimal
    mg_per_kg: Decimal | None
    dosing_weight_kg: Decimal | None
    weight_basis: str
    concentration_mg_per_ml: Decimal | None
    container_volume_ml: Decimal | None
    volume_ml: Decimal | None
    duration_min: Decimal | None
    rate_ml_per_h: Decimal | None
    devices: int | None
    rest_between_devices_min: int | None
    warnings: list[dict[str, Any]]
    override_reason: str
    ordered_by: StaffRef
    ordered_at: datetime
    verified_by: StaffRef | None
    verified_at: datetime | None
    rejected_by: StaffRef | None
    rejected_at: datetime | None
    rejection_reason: str


class DeviceOut(Schema):
    """An esketamine device."""

    id: int
    number: int
    administered_at: datetime
    recorded_by: StaffRef


class InfusionChangeOut(Schema):
    """A change to the dosing."""

    id: int
    kind: str
    at: datetime
    rate_ml_per_h: Decimal | None
    reason: str
    recorded_by: StaffRef


class AdministrationOut(Schema):
    """The dose as given."""

    id: int
    product: str
    lot: str
    concentration_mg_per_ml: Decimal | None
    volume_ml: Decimal | None
    rate_ml_per_h: Decimal | None
    current_rate_ml_per_h: Decimal | None
    state: str
    started_at: datetime
    started_by: StaffRef
    stopped_at: datetime | None
    stopped_by: StaffRef | None
    volume_infused_ml: Decimal | None
    devices: list[DeviceOut]
    changes: list[InfusionChangeOut]

    @staticmethod
    def resolve_devices(obj: Any) -> list[Any]:
        return list(obj.devices.all())

    @staticmethod
    def resolve_changes(obj: Any) -> list[Any]:
        return list(obj.changes.all())


class AdverseEventOut(Schema):
    """An adverse event."""

    id: int
    kind: str
    severity: str
    onset_at: datetime
    description: str
    intervention: str
    outcome: str
    recorded_by: StaffRef
    recorded_at: datetime


class DischargeOut(Schema):
    """The discharge."""

    id: int
    criteria: dict[str, bool]
    discharge_check: dict[str, Any]
    escort_name: str
    ready_at: datetime | None
    observed_minutes: int
    discharged_by: StaffRef
    discharged_at: datetime
    override_reason: str
    override_by: StaffRef | None


class ClearanceOut(Schema):
    """Whether dosing may start, and what holds it."""

    may_start: bool
    needs_decision: bool
    reason: str
    concerns: list[Concern]


class DueOut(Schema):
    """A reading the protocol asks for next."""

    at: datetime
    label: str
    overdue: bool


class ObservationOut(Schema):
    """The minimum observation."""

    minimum_minutes: int
    ends_at: datetime | None
    remaining_minutes: int | None


class SessionDetailOut(SessionOut):
    """Everything recorded in a session."""

    pre_check: PreDoseCheckOut | None
    start_decisions: list[StartDecisionOut]
    dose_orders: list[DoseOrderOut]
    administration: AdministrationOut | None
    monitoring: list[MonitoringEntryOut]
    adverse_events: list[AdverseEventOut]
    discharge: DischargeOut | None
    clearance: ClearanceOut
    observation: ObservationOut
    due: list[DueOut]
    discharge_criteria: list[str]


class DayRowOut(Schema):
    """A line of the day's list."""

    appointment_id: int | None
    appointment_status: str | None
    starts_at: datetime
    patient_id: int
    session: SessionOut | None


class BloodPressureOut(Schema):
    """A blood pressure with its time."""

    systolic: int
    diastolic: int
    taken_at: datetime


class RemsRecordOut(Schema):
    """The SPRAVATO REMS patient monitoring form's answers from the session record."""

    session_id: int
    patient_name: str
    date_of_birth: date
    sex: str
    first_treatment: bool
    concomitant_medicine_classes: list[str]
    medicines: list[str]
    monitoring_clinician: str
    setting: str
    treatment_date: date
    dose_mg: str
    lot: str
    first_device_at: datetime | None
    monitoring_minutes: int | None
    ready_minutes: int | None
    vitals_acceptable_before_dosing: bool
    vitals_acceptable_before_discharge: bool | None
    bp_before_dosing: BloodPressureOut | None
    bp_at_40_minutes: BloodPressureOut | None
    bp_before_discharge: BloodPressureOut | None
    sedation: bool
    dissociation: bool
    respiratory_depression: bool
    adverse_events: list[AdverseEventOut]
