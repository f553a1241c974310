"""How the audit page turns "MRN or name" into patients, without the audit app knowing patients.

The patients app registers its lookup when it starts (the same pattern as the tenancy guard's
path objects), so the audit trail stays the lowest app.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ketacare.accounts.access import Actor


@dataclass(frozen=True)
class PatientLookup:
    """Find the clinic's patients by MRN or name, and label patient ids, for the audit page."""

    search: Callable[[Actor, str], dict[int, str]]
    labels: Callable[[Actor, list[int]], dict[int, str]]


_LOOKUP: list[PatientLookup] = []


def register_patient_lookup(lookup: PatientLookup) -> None:
    """Declare the patient lookup (the patients app does, at start-up)."""
    _LOOKUP[:] = [lookup]


def patients_matching(*, actor: Actor, query: str) -> dict[int, str]:
    """The actor's clinic's patients {id: label} matching an MRN exactly or a name in part."""
    query = " ".join(query.split())
    if not query or not _LOOKUP:
        return {}
    return _LOOKUP[0].search(actor, query)


def patient_labels(*, actor: Actor, patient_ids: list[int]) -> dict[int, str]:
    """Labels ("Family, Given (MRN)") of the actor's clinic's patients among `patient_ids`."""
    if not patient_ids or not _LOOKUP:
        return {}
    return _LOOKUP[0].labels(actor, patient_ids)
