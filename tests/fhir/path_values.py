"""Records of a clinic for the route walker: one FHIR id of every served type, as one value.

The value is `Type/id` pairs joined by spaces (`tests.fhir.path_values.fhir_ids` reads it), so
the walker's usual machinery makes a full record once per clinic and per walk.
"""

from typing import Any

from ketacare.fhir.registry import REGISTRY, BuildContext
from ketacare.fhir.search import Criteria, search
from tests.factories import PatientFactory
from tests.fhir.athome_factories import home_prescription
from tests.fhir.factories import clinical_record


def _record(clinic: Any, patient: Any, staff: dict[str, Any]) -> str:
    # A patient of its own: other factories leave the walker's patient with an open session.
    patient = PatientFactory(clinic=clinic)
    clinical_record(clinic, patient, staff, weights=1, phq9=1)
    home_prescription(clinic, patient, staff)
    ctx = BuildContext(clinic=clinic)
    pairs = []
    for name, resource_type in sorted(REGISTRY.items()):
        page = search(resource_type, Criteria(count=1), ctx)
        assert page.resources, f"no {name} in the walker's record"
        pairs.append(f"{name}/{page.resources[0]['id']}")
    return " ".join(pairs)


def fhir_ids(value: str) -> dict[str, str]:
    """The walker's value read back: resource type -> one id of that type."""
    return dict(pair.split("/", 1) for pair in value.split())


FACTORIES = {"fhir_record": _record}
