"""Standard codes for chart entries, from the core's vocabulary (`ketacare.clinical.vocabulary`).

The chart stores medicines by name and history items as the eligibility engine's condition
codes. When the vocabulary reads a medicine as exactly one ingredient with an RxNorm code, or
holds SNOMED CT codes for a condition, the FHIR resource carries them beside the text; a
combination product or an entry the vocabulary does not understand keeps its text alone.
"""

from __future__ import annotations

from typing import Any

from ketacare.clinical.vocabulary import load_vocabulary
from ketacare.fhir import codes as c


def medicine_codings(name: str) -> list[dict[str, Any]]:
    """RxNorm ingredient coding of a medicine or substance named by generic or brand name."""
    vocabulary = load_vocabulary()
    reading = vocabulary.read_medicine(name)
    ingredients = [
        vocabulary.ingredients[k] for k in reading.concepts if k in vocabulary.ingredients
    ]
    if not reading.understood or len(ingredients) != 1 or not ingredients[0].rxnorm:
        return []
    ingredient = ingredients[0]
    return [c.coding(c.RXNORM, ingredient.rxnorm or "", ingredient.id)]


def condition_codings(code: str) -> list[dict[str, Any]]:
    """SNOMED CT codings the vocabulary holds for one of the engine's condition codes."""
    condition = load_vocabulary().conditions.get(code)
    if condition is None:
        return []
    return [c.coding(c.SNOMED, snomed) for snomed in condition.snomed[:1]]
