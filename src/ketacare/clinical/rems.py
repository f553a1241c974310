"""SPRAVATO REMS rules: who may be treated where, and the patient monitoring form and its clock.

Sources: SPRAVATO REMS (healthcare settings certified; patients enrolled before the first
treatment; a Patient Monitoring Form within 7 days of every session), the REMS modification of
31 Dec 2024 (respiratory depression; opioids named among concomitant medicines) and the PMF
fields of the clinical reference §3. The 7 days are calendar days, holidays included (a filing
guide; open: confirm on the REMS site), so the due date is never moved to a business day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ketacare.clinical.errors import InvalidInput, ProtocolViolation
from ketacare.clinical.protocols import Protocol

REMS_SOURCE = "spravato_rems"
# SPRAVATO REMS: the Patient Monitoring Form is due within 7 days of each session (reference §3).
PMF_DUE_CALENDAR_DAYS = 7


def under_rems(protocol: Protocol) -> bool:
    """Whether a protocol's sessions fall under the SPRAVATO REMS (its data cites the REMS)."""
    return REMS_SOURCE in protocol.citation.source_ids or (
        REMS_SOURCE in protocol.monitoring.citation.source_ids
    )


@dataclass(frozen=True)
class RemsFacts:
    """What the REMS gate needs about a session's setting and patient; None is unknown."""

    setting_certified: bool | None
    patient_enrolled: bool | None


def rems_gate(*, protocol: Protocol, facts: RemsFacts, dosing: bool) -> None:
    """Refuse a REMS session at an uncertified setting, and a dose to a patient not enrolled.

    Fails closed: an unknown certification or enrolment refuses. Check-in asks about the
    setting only (`dosing=False`); the dose asks about both.
    """
    if not under_rems(protocol):
        return
    if facts.setting_certified is not True:
        raise ProtocolViolation(
            "rems_setting_not_certified",
            "This location has no current SPRAVATO REMS healthcare-setting certification; "
            "esketamine may not be given here.",
        )
    if dosing and facts.patient_enrolled is not True:
        raise ProtocolViolation(
            "rems_patient_not_enrolled",
            "The patient is not enrolled in the SPRAVATO REMS; enrol them before the first dose.",
        )


def pmf_due_on(session_day: date) -> date:
    """The last day to submit the monitoring form: 7 calendar days after the session's day."""
    return session_day + timedelta(days=PMF_DUE_CALENDAR_DAYS)


class PmfState(StrEnum):
    """Where a session's monitoring form stands in the queue."""

    DUE = "due"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"
    SUBMITTED_LATE = "submitted_late"


def pmf_state(*, due_on: date, submitted_on: date | None, today: date) -> PmfState:
    """Due until its due date, overdue after; submitted (late when after the due date)."""
    if submitted_on is not None:
        return PmfState.SUBMITTED if submitted_on <= due_on else PmfState.SUBMITTED_LATE
    return PmfState.DUE if today <= due_on else PmfState.OVERDUE


def submission_ok(*, due_on: date, submitted_on: date, today: date, late_reason: str) -> None:
    """A submission is dated no later than today; a late one needs its reason."""
    if submitted_on > today:
        raise InvalidInput("A submission cannot be dated in the future.", field="submitted_on")
    if submitted_on > due_on and not late_reason.strip():
        raise ProtocolViolation(
            "late_reason_required",
            f"The form was due on {due_on.isoformat()}; a late submission needs a reason.",
        )


class FieldKind(StrEnum):
    """How a form field is answered."""

    TEXT = "text"
    DATE = "date"
    BOOL = "bool"
    INT = "int"
    CHOICE = "choice"
    LIST = "list"


@dataclass(frozen=True)
class PmfField:
    """One field of the monitoring form: where it is filled from and whether it must be answered."""

    id: str
    label: str
    kind: FieldKind
    required: bool = True
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class PmfDefinition:
    """A version of the Patient Monitoring Form (its exact wording is not confirmed: versioned)."""

    version: str
    title: str
    fields: tuple[PmfField, ...]

    def field(self, field_id: str) -> PmfField:
        """The field with this id."""
        for f in self.fields:
            if f.id == field_id:
                return f
        raise InvalidInput(f"The form has no field '{field_id}'.", field=field_id)


_F = PmfField
_K = FieldKind
# Reference §3 (PMF fields), with the REMS modification of 31 Dec 2024
# (opioids named; respiratory depression).
PMF_2024_12 = PmfDefinition(
    version="2024-12",
    title="SPRAVATO REMS Patient Monitoring Form",
    fields=(
        _F("patient_name", "Patient name", _K.TEXT),
        _F("date_of_birth", "Date of birth", _K.DATE),
        _F("sex", "Sex", _K.TEXT),
        _F("rems_patient_id", "REMS patient id", _K.TEXT),
        _F("enrolled_on", "Date enrolled in the REMS", _K.DATE),
        _F("first_treatment", "First treatment with SPRAVATO", _K.BOOL),
        _F(
            "concomitant_classes",
            "Concomitant medicines that sedate or raise blood pressure (benzodiazepines, other "
            "sedative-hypnotics, psychostimulants, MAOIs, opioids)",
            _K.LIST,
            required=False,
        ),
        _F("monitoring_clinician", "Monitoring healthcare provider", _K.TEXT),
        _F("setting", "Healthcare setting", _K.TEXT),
        _F("certification_id", "Healthcare setting REMS certification", _K.TEXT),
        _F("session_date", "Date of treatment", _K.DATE),
        _F("dose", "Dose", _K.CHOICE, choices=("56 mg", "84 mg", "other")),
        _F("dose_mg", "Dose in mg", _K.TEXT),
        _F("lot", "Lot number", _K.TEXT),
        _F("monitoring_minutes", "Minutes from first device to end of monitoring", _K.INT),
        _F(
            "ready_minutes",
            "Minutes until the patient would have been ready without the two-hour rule",
            _K.INT,
        ),
        _F("vitals_acceptable_before_dosing", "Vital signs acceptable before dosing", _K.BOOL),
        _F(
            "vitals_acceptable_before_discharge", "Vital signs acceptable before discharge", _K.BOOL
        ),
        _F("bp_before", "Blood pressure before dosing", _K.TEXT),
        _F("bp_at_40", "Blood pressure about 40 minutes after dosing", _K.TEXT),
        _F("bp_before_discharge", "Blood pressure before discharge", _K.TEXT),
        _F("sedation", "Sedation occurred", _K.BOOL),
        _F("dissociation", "Dissociation occurred", _K.BOOL),
        _F("respiratory_depression", "Respiratory depression occurred", _K.BOOL),
        _F("adverse_events", "Serious adverse events", _K.LIST, required=False),
    ),
)

PMF_DEFINITIONS: dict[str, PmfDefinition] = {PMF_2024_12.version: PMF_2024_12}
PMF_CURRENT = PMF_2024_12.version


def pmf_definition(version: str) -> PmfDefinition:
    """A form definition by version."""
    if version not in PMF_DEFINITIONS:
        raise InvalidInput(f"Unknown form version '{version}'.", field="version")
    return PMF_DEFINITIONS[version]


def dose_choice(dose_mg: str) -> str:
    """The form's dose box for a dose in mg: 56 mg, 84 mg, or other."""
    return {"56": "56 mg", "84": "84 mg"}.get(dose_mg.strip(), "other")


def pmf_missing(definition: PmfDefinition, answers: Mapping[str, object]) -> list[str]:
    """The required fields left unanswered (None or empty); a form is signed only without any."""
    missing = []
    for f in definition.fields:
        value = answers.get(f.id)
        if (
            f.required
            and (value is None or value == "")
            or f.kind == FieldKind.CHOICE
            and value not in (None, "")
            and value not in f.choices
        ):
            missing.append(f.id)
    return missing


def monitoring_minutes_ok(minutes: int | None, *, minimum: int) -> bool:
    """Whether monitoring lasted at least the REMS minimum (120 minutes from the first device)."""
    return minutes is not None and minutes >= minimum
