"""Medicines given during a session (an antiemetic, a benzodiazepine, an antihypertensive), read
through the medicine vocabulary: a generic or brand name resolves to its ingredients; a name the
vocabulary does not hold is kept as typed and marked for review, never guessed (fail closed)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.vocabulary import Vocabulary, load_vocabulary

# The units a dose given at the chair is written in (UCUM codes in the comments).
DOSE_UNITS = ("mg", "mcg", "g", "mL", "units")  # mg, ug, g, mL, [U]
# How it was given (SNOMED CT route of administration in the comments).
ROUTES = {
    "iv": "Intravenous",  # 47625008
    "im": "Intramuscular",  # 78421000
    "po": "By mouth",  # 26643006
    "sl": "Sublingual",  # 37839007
    "in": "Intranasal",  # 46713006
    "sc": "Subcutaneous",  # 34206005
    "inh": "Inhaled",  # 447694001
}
# A bound on input, not a clinical limit: catches a slip of the keyboard (500000 for 5.0).
MAX_DOSE = Decimal("10000")


@dataclass(frozen=True)
class GivenMedicine:
    """A medicine given, as read: its ingredients when the vocabulary knows it, else for review."""

    entry: str
    ingredients: tuple[str, ...]
    understood: bool
    meaning: str

    @property
    def needs_review(self) -> bool:
        """Not read by the vocabulary: staff check what was given."""
        return not self.understood


def read_given(entry: str, *, vocabulary: Vocabulary | None = None) -> GivenMedicine:
    """Read a medicine name (generic, brand, with strength) into its ingredients."""
    text = " ".join((entry or "").split())
    if not text:
        raise InvalidInput("Name the medicine given.", field="medicine")
    vocab = vocabulary or load_vocabulary()
    reading = vocab.read_medicine(text)
    ingredients = tuple(c for c in reading.concepts if c in vocab.ingredients)
    if reading.understood:
        return GivenMedicine(text, ingredients, True, reading.meaning)
    return GivenMedicine(text, (), False, "not in the medicine vocabulary: needs review")


def check_dose(dose: Decimal | None, unit: str, route: str) -> Decimal:
    """A dose, its unit and route as entered: present, positive, one of the known units/routes."""
    if dose is None or not dose.is_finite() or dose <= 0:
        raise InvalidInput("Give the dose given, more than zero.", field="dose")
    if dose > MAX_DOSE:
        raise InvalidInput(f"A dose above {MAX_DOSE} is not accepted; check it.", field="dose")
    if unit not in DOSE_UNITS:
        raise InvalidInput("Choose the dose's unit.", field="unit")
    if route not in ROUTES:
        raise InvalidInput("Choose how it was given.", field="route")
    return dose
