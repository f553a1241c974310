"""The chart's sections: what each holds (a pydantic schema), who may see and edit it.

A section is stored as one JSON document per patient (`ChartSection`), validated by its schema
on every write, with an append-only revision per change. List sections say "none" explicitly
(`none_known`): an empty list that nobody confirmed is not the same as "no allergies".
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ketacare.accounts.permissions import Permission
from ketacare.clinical.eligibility import load_eligibility_rules
from ketacare.clinical.plausibility import check_vital_signs
from ketacare.kernel import clock
from ketacare.kernel.bounds import BoundedModel
from ketacare.patients.codes import (
    medical_history_codes,
    normalize_icd10,
    psychiatric_history_codes,
    substance_codes,
)

MAX_ITEMS = 50


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
RequiredName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^[0-9+() .-]*$")
]


class SectionData(BoundedModel):
    """Base of every section's data: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    def challenges(self) -> list[tuple[str, str]]:
        """Values the core says may be typing errors, as (this section's field, why), when not
        yet confirmed: the service refuses them naming the field. Most sections have none."""
        return []


class ListSection(SectionData):
    """A list that is either confirmed empty (`none_known`) or has entries."""

    none_known: bool = Field(
        False, description="True to record that there are none (e.g. no known allergies)."
    )

    @abstractmethod
    def entries(self) -> list[object]:
        """The section's entries (each list section names its own field)."""

    @model_validator(mode="after")
    def _none_or_entries(self) -> ListSection:
        if self.none_known and self.entries():
            raise ValueError("record entries or 'none known', not both")
        if not self.none_known and not self.entries():
            raise ValueError("add at least one entry, or record 'none known'")
        return self


# --- contact ------------------------------------------------------------------------------------


class ContactData(SectionData):
    """Address, emergency contact and the escort who takes the patient home after treatment."""

    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    preferred_contact: Literal["phone", "text", "email", "post"] | None = None
    emergency_contact_name: RequiredName
    emergency_contact_relationship: ShortText = ""
    emergency_contact_phone: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=3, max_length=32, pattern=r"^[0-9+() .-]*$"
        ),
    ]
    escort_name: ShortText = ""
    escort_relationship: ShortText = ""
    escort_phone: Phone = ""
    escort_notes: ShortText = ""


# --- diagnoses ----------------------------------------------------------------------------------


class DiagnosisItem(SectionData):
    """A diagnosis as an ICD-10-CM code."""

    icd10: str = Field(description="ICD-10-CM code, e.g. F33.1", examples=["F33.1"])
    description: RequiredName
    status: Literal["active", "in_remission", "resolved"] = "active"
    onset_year: int | None = Field(None, ge=1900, le=2100)
    primary: bool = False

    @field_validator("icd10")
    @classmethod
    def _icd10(cls, value: str) -> str:
        return normalize_icd10(value)


class DiagnosesData(ListSection):
    """Diagnoses (ICD-10-CM), current and past."""

    items: list[DiagnosisItem] = Field(default_factory=list, max_length=MAX_ITEMS)

    def entries(self) -> list[object]:
        return list(self.items)


# --- history checklists -------------------------------------------------------------------------


class ChecklistSection(SectionData):
    """Conditions ticked from a list the screening understands, plus anything else, as text."""

    none_known: bool = Field(False, description="True to record that none apply.")
    conditions: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    other: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Other conditions, as text."
    )
    notes: LongText = ""

    @classmethod
    @abstractmethod
    def allowed_codes(cls) -> tuple[str, ...]:
        """The condition codes this history section accepts."""

    @field_validator("conditions")
    @classmethod
    def _known_codes(cls, value: list[str]) -> list[str]:
        allowed = cls.allowed_codes()
        unknown = [code for code in value if code not in allowed]
        if unknown:
            raise ValueError(f"unknown condition {unknown[0]!r}; known: {', '.join(allowed)}")
        return sorted(set(value), key=allowed.index)

    @model_validator(mode="after")
    def _none_or_entries(self) -> ChecklistSection:
        if self.none_known and (self.conditions or self.other):
            raise ValueError("tick conditions or 'none known', not both")
        if not self.none_known and not (self.conditions or self.other):
            raise ValueError("tick at least one condition, or record 'none known'")
        return self


class PsychiatricHistoryData(ChecklistSection):
    """Past psychiatric history: psychosis, substance use disorders, admissions, attempts."""

    @classmethod
    def allowed_codes(cls) -> tuple[str, ...]:
        return psychiatric_history_codes()


class MedicalHistoryData(ChecklistSection):
    """Medical history: vascular, hepatic, urological, neurological and other conditions."""

    @classmethod
    def allowed_codes(cls) -> tuple[str, ...]:
        return medical_history_codes()


# --- allergies and medicines --------------------------------------------------------------------


class AllergyItem(SectionData):
    """An allergy or intolerance."""

    substance: RequiredName
    reaction: ShortText = ""
    severity: Literal["mild", "moderate", "severe", "unknown"] = "unknown"


class AllergiesData(ListSection):
    """Allergies and intolerances; `none_known` records no known allergies."""

    items: list[AllergyItem] = Field(default_factory=list, max_length=MAX_ITEMS)

    def entries(self) -> list[object]:
        return list(self.items)


class MedicineItem(SectionData):
    """A current medicine, by generic name (the screening matches generic names)."""

    generic_name: Annotated[
        str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=2, max_length=100)
    ] = Field(
        description="The medicine as named on the label: generic, brand or combination "
        "(e.g. lorazepam, Ativan, Percocet). The screening reads it by ingredient; a name it "
        "does not know makes the screening 'needs review'."
    )
    brand_name: ShortText = ""
    dose: ShortText = Field("", description="As prescribed, e.g. '1 mg'.")
    frequency: ShortText = ""
    indication: ShortText = ""


class MedicinesData(ListSection):
    """Current medicines; `none_known` records that the patient takes none."""

    items: list[MedicineItem] = Field(default_factory=list, max_length=MAX_ITEMS)

    def entries(self) -> list[object]:
        return list(self.items)


# --- substance use ------------------------------------------------------------------------------


class SubstanceItem(SectionData):
    """A substance used now or recently, not as prescribed."""

    substance: str
    details: ShortText = Field("", description="What, how much, how often, when last.")

    @field_validator("substance")
    @classmethod
    def _known_substance(cls, value: str) -> str:
        allowed = substance_codes()
        if value not in allowed:
            raise ValueError(f"unknown substance {value!r}; known: {', '.join(allowed)}")
        return value


class SubstanceUseData(ListSection):
    """Current or recent substance use (alcohol, non-prescribed ketamine, others)."""

    items: list[SubstanceItem] = Field(default_factory=list, max_length=MAX_ITEMS)

    def entries(self) -> list[object]:
        return list(self.items)


# --- pregnancy ----------------------------------------------------------------------------------


class PregnancyData(SectionData):
    """Pregnancy and breastfeeding; None is 'not known yet' (the screening asks for it)."""

    not_applicable: bool = Field(False, description="True when pregnancy is not possible.")
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    notes: ShortText = ""

    @model_validator(mode="after")
    def _not_applicable_means_no(self) -> PregnancyData:
        if self.not_applicable and (self.pregnant or self.breastfeeding):
            raise ValueError("'not applicable' cannot also be pregnant or breastfeeding")
        if self.not_applicable:
            self.pregnant = False
            self.breastfeeding = False
        return self


# --- antidepressant trials ----------------------------------------------------------------------


def trial_outcomes() -> tuple[str, ...]:
    """Outcomes of an antidepressant trial, as the eligibility engine knows them."""
    return load_eligibility_rules().trd.outcomes


class AntidepressantTrialItem(SectionData):
    """One antidepressant trial: drug, dose, weeks and outcome."""

    drug: Annotated[
        str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=2, max_length=100)
    ]
    dose_mg: Decimal | None = Field(None, ge=0, le=10000, decimal_places=2)
    min_therapeutic_dose_mg: Decimal | None = Field(
        None,
        ge=0,
        le=10000,
        decimal_places=2,
        description="The prescriber's minimum therapeutic dose for this drug, if known.",
    )
    adequate_dose: bool | None = Field(
        None, description="The prescriber's judgement that the dose was adequate."
    )
    weeks: Decimal | None = Field(None, ge=0, le=520, decimal_places=1)
    outcome: str | None = Field(None, description=f"One of: {', '.join(trial_outcomes())}.")
    current_episode: bool | None = Field(
        None, description="Whether the trial was in the current episode; null until known."
    )
    notes: ShortText = ""

    @field_validator("outcome")
    @classmethod
    def _known_outcome(cls, value: str | None) -> str | None:
        if value is not None and value not in trial_outcomes():
            raise ValueError(f"outcome must be one of {', '.join(trial_outcomes())}")
        return value


class AntidepressantTrialsData(ListSection):
    """Prior antidepressant trials; `none_known` records that there were none."""

    items: list[AntidepressantTrialItem] = Field(default_factory=list, max_length=MAX_ITEMS)

    def entries(self) -> list[object]:
        return list(self.items)


# --- baseline vitals ----------------------------------------------------------------------------

# Plausibility bounds that catch typing errors (e.g. 1200 for 120); they are not clinical limits.


class BaselineVitalsData(SectionData):
    """Vital signs at screening (blood pressure is what the eligibility rules use)."""

    measured_at: datetime
    systolic_mmhg: int = Field(ge=50, le=300)
    diastolic_mmhg: int = Field(ge=20, le=200)
    heart_rate_bpm: int | None = Field(None, ge=20, le=250)
    spo2_percent: int | None = Field(None, ge=50, le=100)
    respiratory_rate: int | None = Field(None, ge=4, le=60)
    temperature_c: Decimal | None = Field(None, ge=30, le=45, decimal_places=1)
    notes: ShortText = ""

    @field_validator("measured_at")
    @classmethod
    def _aware_and_not_in_future(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-03-01T09:30:00-05:00)")
        if clock.is_future(value):
            raise ValueError("cannot be in the future")
        return value.astimezone(UTC)  # one instant, one spelling

    confirmed_implausible: bool = False

    @model_validator(mode="after")
    def _diastolic_below_systolic(self) -> BaselineVitalsData:
        if self.diastolic_mmhg >= self.systolic_mmhg:
            raise ValueError("diastolic must be lower than systolic (check the order)")
        return self

    def challenges(self) -> list[tuple[str, str]]:
        """The core's challenges (300/200 is outside the plausible range) on this section's
        fields, unless someone re-measured and confirmed them (`confirmed_implausible`)."""
        if self.confirmed_implausible:
            return []
        found = check_vital_signs(
            {
                "systolic": self.systolic_mmhg,
                "diastolic": self.diastolic_mmhg,
                "heart_rate": self.heart_rate_bpm,
                "respiratory_rate": self.respiratory_rate,
                "spo2": self.spo2_percent,
            }
        )
        return [(BASELINE_VITAL_FIELDS.get(c.field, c.field), c.message) for c in found]


# The core's names of the vital signs → the baseline section's fields.
BASELINE_VITAL_FIELDS = {
    "systolic": "systolic_mmhg",
    "diastolic": "diastolic_mmhg",
    "heart_rate": "heart_rate_bpm",
    "respiratory_rate": "respiratory_rate",
    "spo2": "spo2_percent",
}


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionSpec:
    """One chart section: its key, label, schema, permissions and the facts it feeds."""

    key: str
    label: str
    schema: type[SectionData]
    view_permission: Permission
    edit_permission: Permission
    facts: tuple[str, ...]
    help: str


def _clinical(
    key: str, label: str, schema: type[SectionData], facts: tuple[str, ...], help: str
) -> SectionSpec:
    """A clinical section: the care team reads it, clinicians edit it."""
    return SectionSpec(
        key, label, schema, Permission.CHART_VIEW, Permission.CHART_EDIT, facts, help
    )


SECTION_SPECS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "contact",
        "Contact, emergency contact and escort",
        ContactData,
        Permission.PATIENT_VIEW,
        Permission.PATIENT_EDIT,
        (),
        "Who to call in an emergency, and who takes the patient home after treatment.",
    ),
    _clinical(
        "diagnoses",
        "Diagnoses",
        DiagnosesData,
        ("diagnoses",),
        "ICD-10-CM codes, current and past.",
    ),
    _clinical(
        "psychiatric_history",
        "Psychiatric history",
        PsychiatricHistoryData,
        ("psychiatric_history",),
        "Psychosis, substance use disorders, admissions, suicide attempts, prior treatments.",
    ),
    _clinical(
        "medical_history",
        "Medical history",
        MedicalHistoryData,
        ("medical_history",),
        "Tick every condition that applies and type any other; the screening reads each line, and "
        "one it does not understand means 'needs review'.",
    ),
    _clinical(
        "allergies",
        "Allergies",
        AllergiesData,
        ("allergies",),
        "An allergy to ketamine or esketamine (by any name) counts as hypersensitivity in the "
        "screening; an allergen it does not know means 'needs review'.",
    ),
    _clinical(
        "medicines",
        "Current medicines",
        MedicinesData,
        ("medicines",),
        "Generic or brand names: the screening reads each by ingredient; a name it does not know "
        "means 'needs review'.",
    ),
    _clinical(
        "substance_use",
        "Substance use",
        SubstanceUseData,
        ("substance_use",),
        "Current or recent use, not as prescribed.",
    ),
    _clinical(
        "pregnancy",
        "Pregnancy and breastfeeding",
        PregnancyData,
        ("pregnant", "breastfeeding"),
        "Asked where pregnancy is possible.",
    ),
    _clinical(
        "antidepressant_trials",
        "Prior antidepressant trials",
        AntidepressantTrialsData,
        ("antidepressant_trials",),
        "Drug, dose, weeks and outcome of each trial in this and earlier episodes.",
    ),
    _clinical(
        "baseline_vitals",
        "Baseline vital signs",
        BaselineVitalsData,
        ("systolic_mmhg", "diastolic_mmhg"),
        "At rest, at screening.",
    ),
)
SECTIONS: dict[str, SectionSpec] = {spec.key: spec for spec in SECTION_SPECS}
SECTION_KEYS: tuple[str, ...] = tuple(SECTIONS)

# The intake walks the chart in the order a clinic asks: who you are, how to reach you and who
# brings you home, your size, then the clinical history, ending with vitals taken on the day.
INTAKE_STEPS: tuple[tuple[str, str], ...] = (
    ("demographics", "Demographics"),
    ("contact", SECTIONS["contact"].label),
    ("measurements", "Height and weight"),
    ("diagnoses", SECTIONS["diagnoses"].label),
    ("psychiatric_history", SECTIONS["psychiatric_history"].label),
    ("medical_history", SECTIONS["medical_history"].label),
    ("allergies", SECTIONS["allergies"].label),
    ("medicines", SECTIONS["medicines"].label),
    ("substance_use", SECTIONS["substance_use"].label),
    ("pregnancy", SECTIONS["pregnancy"].label),
    ("antidepressant_trials", SECTIONS["antidepressant_trials"].label),
    ("baseline_vitals", SECTIONS["baseline_vitals"].label),
)
INTAKE_STEP_KEYS: tuple[str, ...] = tuple(key for key, _ in INTAKE_STEPS)

# Which intake step records each eligibility fact, so a missing fact can link to where it goes.
FACT_STEPS: dict[str, str] = {
    "age_years": "demographics",
    "weight_kg": "measurements",
    "systolic_mmhg": "baseline_vitals",
    "diastolic_mmhg": "baseline_vitals",
    "diagnoses": "diagnoses",
    "psychiatric_history": "psychiatric_history",
    "medical_history": "medical_history",
    "pregnant": "pregnancy",
    "breastfeeding": "pregnancy",
    "substance_use": "substance_use",
    "medicines": "medicines",
    "antidepressant_trials": "antidepressant_trials",
    "allergies": "allergies",
}
FACT_LABELS: dict[str, str] = {
    "age_years": "Age (from date of birth)",
    "weight_kg": "Weight",
    "systolic_mmhg": "Blood pressure, systolic",
    "diastolic_mmhg": "Blood pressure, diastolic",
    "diagnoses": "Diagnoses",
    "psychiatric_history": "Psychiatric history",
    "medical_history": "Medical history",
    "allergies": "Allergies",
    "pregnant": "Pregnant",
    "breastfeeding": "Breastfeeding",
    "substance_use": "Substance use",
    "medicines": "Current medicines",
    "antidepressant_trials": "Prior antidepressant trials",
}


def fact_label(name: str) -> str:
    """A person-readable name for an eligibility fact, including trial details.

    `antidepressant_trials[1].weeks` reads "Prior antidepressant trials, trial 2: weeks".
    """
    if name.startswith("antidepressant_trials["):
        index, _, detail = name.removeprefix("antidepressant_trials[").partition("].")
        if index.isdigit():
            return (
                f"{FACT_LABELS['antidepressant_trials']}, trial {int(index) + 1}: "
                f"{detail.replace('_', ' ')}"
            )
    return FACT_LABELS.get(name, name.replace("_", " "))


def fact_step(name: str) -> str | None:
    """The intake step where a fact is recorded."""
    return FACT_STEPS.get(name.split("[", 1)[0])
