"""Standard codes for chart entries, from the core's vocabularies where they exist.

The chart stores medicines by generic name and history items as the eligibility engine's
condition codes. When the core's vocabulary names an RxNorm ingredient (or an ICD-10-CM code)
for an entry, the FHIR resource carries it beside the text; otherwise the text stands alone.
"""

from __future__ import annotations

from typing import Any

from ketacare.fhir import codes as c

# Only the ketamine products KetaCare administers are coded here; reference §4 (open: 6130).
_KNOWN_MEDICINES = {
    "ketamine": [c.coding(c.RXNORM, c.RXNORM_KETAMINE, "ketamine")],
}


def medicine_codings(name: str) -> list[dict[str, Any]]:
    """RxNorm codings for a medicine or substance named by its generic (or brand) name."""
    return list(_KNOWN_MEDICINES.get(name.strip().lower(), []))


def condition_codings(code: str) -> list[dict[str, Any]]:
    """Standard codings for one of the engine's condition codes (none known yet)."""
    return []
