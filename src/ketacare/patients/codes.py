"""The chart's choices and suggestions, served from the core's vocabularies.

The ICD-10-CM map, the condition and substance codes and the medicine names live in
`ketacare.clinical.vocabulary` (cited data, validated on load); this module only shapes them for
the chart's forms: checklists, choices and as-you-type suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketacare.clinical.vocabulary import Reading, load_vocabulary
from ketacare.clinical.vocabulary import normalize_icd10 as _normalize_icd10

# What the as-you-type check reads: a few lines of a form field, not a document.
MAX_CHECK_LINES = 20
MAX_CHECK_CHARS = 2000
CHECK_KINDS = ("condition", "medicine", "allergy")

# The substance section's catch-all: recorded with its details, it is not understood by the
# screening and makes it "needs review" naming the entry.
OTHER_SUBSTANCE = "other"


def normalize_icd10(value: str) -> str:
    """An ICD-10-CM code in its canonical form; ValueError names what is wrong."""
    return _normalize_icd10(value)


def condition_label(code: str) -> str:
    """A person-readable label for a condition or substance code."""
    if code == OTHER_SUBSTANCE:
        return "Other"
    return load_vocabulary().label(code)


def psychiatric_history_codes() -> tuple[str, ...]:
    """The codes the psychiatric history checklist offers."""
    return load_vocabulary().checklist("psychiatric_history")


def medical_history_codes() -> tuple[str, ...]:
    """The codes the medical history checklist offers."""
    return load_vocabulary().checklist("medical_history")


def substance_codes() -> tuple[str, ...]:
    """The substances the substance-use section records (the vocabulary's, then 'other')."""
    return (*load_vocabulary().substances, OTHER_SUBSTANCE)


def icd10_suggestions() -> tuple[tuple[str, str], ...]:
    """ICD-10-CM codes offered as you type in the diagnoses section, with their titles."""
    return tuple(load_vocabulary().icd10_titles.items())


def medicine_suggestions() -> tuple[str, ...]:
    """Generic, brand and combination names offered as you type a medicine or an allergy."""
    return load_vocabulary().medicine_names()


def condition_suggestions() -> tuple[str, ...]:
    """Condition names and synonyms offered as you type other conditions."""
    return load_vocabulary().condition_names()


def antidepressant_suggestions() -> tuple[str, ...]:
    """Antidepressants by generic name, offered as you type a trial."""
    return load_vocabulary().antidepressants()


@dataclass(frozen=True)
class LineCheck:
    """How the screening will read one typed line, and close names when it will not."""

    reading: Reading
    suggestions: tuple[str, ...]


def check_lines(kind: str, text: str) -> list[LineCheck]:
    """Read each typed line as the screening will (conditions, medicines or allergies)."""
    vocabulary = load_vocabulary()
    read = {
        "condition": vocabulary.read_condition,
        "medicine": vocabulary.read_medicine,
        "allergy": vocabulary.read_allergy,
    }[kind]
    lines = [line.strip() for line in text[:MAX_CHECK_CHARS].splitlines() if line.strip()]
    checks = []
    for line in lines[:MAX_CHECK_LINES]:
        reading = read(line)
        suggestions = (
            ()
            if reading.understood
            else vocabulary.suggest(
                "condition" if kind == "condition" else "medicine", line, limit=3
            )
        )
        checks.append(LineCheck(reading, suggestions))
    return checks
