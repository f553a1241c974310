"""A real FHIR client library (fhirpy) searches a live KetaCare server over HTTP."""

import pytest
from django.utils import timezone
from fhirpy import SyncFHIRClient

from ketacare.fhir.registry import REGISTRY
from tests.fhir.factories import clinical_record
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fhir(world, live_server):
    clinical_record(world.clinic_a, world.patient_a, world.staff, weights=7, phq9=5)
    token = world.token_for(world.staff["prescriber"])
    return SyncFHIRClient(f"{live_server.url}/fhir/r4", authorization=f"Bearer {token}")


def test_fhirpy_finds_the_patient_by_name(world, fhir):
    patient = world.patient_a
    found = fhir.resources("Patient").search(name=patient.given_name).fetch_all()
    assert [p.id for p in found] == [str(patient.pk)]
    assert found[0]["name"][0]["family"] == patient.family_name
    validate(found[0].serialize())
    # and reads it by id
    assert fhir.reference("Patient", str(patient.pk)).to_resource()["birthDate"] == "1980-05-17"


def test_fhirpy_pages_through_observations_by_patient_and_loinc_code(world, fhir):
    # seven weights in the chart and today's from the pre-dose check, two to a page
    search = fhir.resources("Observation").search(
        patient=str(world.patient_a.pk), code="http://loinc.org|29463-7"
    )
    assert search.count() == 8
    pages = list(search.limit(2).fetch_all())
    assert len(pages) == 8 and len({o.id for o in pages}) == 8
    assert {o["code"]["coding"][0]["code"] for o in pages} == {"29463-7"}
    assert all(o["valueQuantity"]["code"] == "kg" for o in pages)
    for observation in pages:
        validate(observation.serialize())
    phq9 = fhir.resources("Observation").search(
        subject=f"Patient/{world.patient_a.pk}", code="http://loinc.org|44261-6"
    )
    assert len(phq9.limit(2).fetch_all()) == 6  # five PHQ-9s and the pre-dose check's


def test_fhirpy_finds_medication_administrations_by_patient_and_date(world, fhir):
    today = timezone.localdate().isoformat()
    found = (
        fhir.resources("MedicationAdministration")
        .search(patient=str(world.patient_a.pk), date=f"ge{today}")
        .fetch_all()
    )
    assert len(found) == 1
    assert found[0]["contained"][0]["code"]["coding"][0]["code"] == "6130"
    none_before = (
        fhir.resources("MedicationAdministration")
        .search(patient=str(world.patient_a.pk), date=f"lt{today}")
        .fetch_all()
    )
    assert none_before == []


def test_fhirpy_reads_the_capability_statement(fhir):
    statement = fhir.execute("metadata", method="get")
    validate(statement)
    assert {r["type"] for r in statement["rest"][0]["resource"]} == set(REGISTRY)
