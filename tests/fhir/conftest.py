"""Fixtures for the FHIR tests: a clinic-A patient with a full record."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fhir.athome_factories import home_prescription
from tests.fhir.factories import clinical_record


@pytest.fixture
def record(world: Any) -> dict[str, Any]:
    out = clinical_record(world.clinic_a, world.patient_a, world.staff)
    out["prescription"] = home_prescription(world.clinic_a, world.patient_a, world.staff)
    return out
