"""The chart, as the eligibility engine's `IntakeFacts`: the one mapping, pure and testable.

A section nobody recorded gives None (unknown), so the engine answers "needs review" naming the
fact; a section recorded as "none known" gives an empty list. Entries go to the core as recorded
(ICD-10-CM codes, ticked conditions, every line of free text and notes, medicine and allergy
names): the core reads each through its vocabularies and names any it does not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ketacare.clinical.eligibility import AntidepressantTrial, IntakeFacts
from ketacare.patients.codes import OTHER_SUBSTANCE
from ketacare.patients.models import PatientSexChoices
from ketacare.patients.sections import (
    AllergiesData,
    AntidepressantTrialsData,
    BaselineVitalsData,
    DiagnosesData,
    MedicalHistoryData,
    MedicinesData,
    PregnancyData,
    PsychiatricHistoryData,
    SectionData,
    SubstanceUseData,
)


def age_on(date_of_birth: date, today: date) -> int:
    """Whole years of age on `today`."""
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - int(before_birthday)


def pregnancy_possible(sex: str) -> bool:
    """Whether the pregnancy section applies: unless the sex assigned at birth is male."""
    return sex != PatientSexChoices.MALE


def _parsed(sections: Mapping[str, Mapping[str, Any]], key: str, schema: type[SectionData]) -> Any:
    data = sections.get(key)
    return None if data is None else schema.model_validate(data)


def facts_from_chart(
    *,
    date_of_birth: date,
    sex: str,
    today: date,
    sections: Mapping[str, Mapping[str, Any]],
    weight_kg: Decimal | None,
) -> IntakeFacts:
    """Map a patient's chart sections (key → stored JSON) onto the engine's intake facts."""
    diagnoses: DiagnosesData | None = _parsed(sections, "diagnoses", DiagnosesData)
    psychiatric: PsychiatricHistoryData | None = _parsed(
        sections, "psychiatric_history", PsychiatricHistoryData
    )
    medical: MedicalHistoryData | None = _parsed(sections, "medical_history", MedicalHistoryData)
    allergies: AllergiesData | None = _parsed(sections, "allergies", AllergiesData)
    medicines: MedicinesData | None = _parsed(sections, "medicines", MedicinesData)
    substances: SubstanceUseData | None = _parsed(sections, "substance_use", SubstanceUseData)
    pregnancy: PregnancyData | None = _parsed(sections, "pregnancy", PregnancyData)
    trials: AntidepressantTrialsData | None = _parsed(
        sections, "antidepressant_trials", AntidepressantTrialsData
    )
    vitals: BaselineVitalsData | None = _parsed(sections, "baseline_vitals", BaselineVitalsData)

    pregnant: bool | None
    breastfeeding: bool | None
    if pregnancy is not None:
        pregnant, breastfeeding = pregnancy.pregnant, pregnancy.breastfeeding
    elif not pregnancy_possible(sex):
        pregnant, breastfeeding = False, False
    else:
        pregnant = breastfeeding = None

    return IntakeFacts(
        age_years=age_on(date_of_birth, today),
        weight_kg=weight_kg,
        systolic_mmhg=vitals.systolic_mmhg if vitals else None,
        diastolic_mmhg=vitals.diastolic_mmhg if vitals else None,
        diagnoses=None if diagnoses is None else _unique(item.icd10 for item in diagnoses.items),
        psychiatric_history=_history(psychiatric),
        medical_history=_history(medical),
        pregnant=pregnant,
        breastfeeding=breastfeeding,
        substance_use=None
        if substances is None
        else _unique(_substance(item.substance, item.details) for item in substances.items),
        medicines=None
        if medicines is None
        else _unique(
            name
            for item in medicines.items
            for name in (item.generic_name, item.brand_name)
            if name.strip()
        ),
        allergies=None
        if allergies is None
        else _unique(item.substance for item in allergies.items),
        antidepressant_trials=None
        if trials is None
        else [
            AntidepressantTrial(
                drug=item.drug,
                weeks=item.weeks,
                outcome=item.outcome,
                dose_mg=item.dose_mg,
                min_therapeutic_dose_mg=item.min_therapeutic_dose_mg,
                adequate_dose=item.adequate_dose,
                current_episode=item.current_episode,
            )
            for item in trials.items
        ],
    )


def _history(section: PsychiatricHistoryData | MedicalHistoryData | None) -> list[str] | None:
    # Ticked conditions, each line of "other conditions" and the notes all go to the screening:
    # a line it cannot read must make it "needs review", not vanish.
    if section is None:
        return None
    notes = [section.notes] if section.notes.strip() else []
    return _unique([*section.conditions, *section.other, *notes])


def _substance(code: str, details: str) -> str:
    # "Other" alone says nothing; with its details the screening can name what was recorded.
    if code == OTHER_SUBSTANCE and details.strip():
        return f"{OTHER_SUBSTANCE}: {details.strip()}"
    return code


def _unique(values: Any) -> list[str]:
    return sorted(set(values))


def facts_to_json(facts: IntakeFacts) -> dict[str, Any]:
    """The facts as JSON (Decimals as strings), for the screening's snapshot and comparisons."""
    trials = facts.antidepressant_trials
    return {
        "age_years": facts.age_years,
        "weight_kg": _decimal(facts.weight_kg),
        "systolic_mmhg": facts.systolic_mmhg,
        "diastolic_mmhg": facts.diastolic_mmhg,
        "diagnoses": _list(facts.diagnoses),
        "psychiatric_history": _list(facts.psychiatric_history),
        "medical_history": _list(facts.medical_history),
        "pregnant": facts.pregnant,
        "breastfeeding": facts.breastfeeding,
        "substance_use": _list(facts.substance_use),
        "medicines": _list(facts.medicines),
        "allergies": _list(facts.allergies),
        "antidepressant_trials": None
        if trials is None
        else [
            {
                "drug": trial.drug,
                "dose_mg": _decimal(trial.dose_mg),
                "min_therapeutic_dose_mg": _decimal(trial.min_therapeutic_dose_mg),
                "adequate_dose": trial.adequate_dose,
                "weeks": _decimal(trial.weeks),
                "outcome": trial.outcome,
                "current_episode": trial.current_episode,
            }
            for trial in trials
        ],
    }


def _decimal(value: Decimal | int | None) -> str | None:
    if value is None:
        return None
    normalized = Decimal(value).normalize()
    # normalize() writes 70 as 7E+1; quantize back to a plain number
    return format(normalized, "f")


def _list(values: Any) -> list[str] | None:
    return None if values is None else list(values)
