"""Every resource the FHIR server emits validates against R4 models (see `validation.py`)."""

from typing import Any

import pytest

from ketacare.fhir.registry import REGISTRY
from tests.fhir.factories import fhir_client
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db


def _all(client: Any, type_name: str) -> list[dict[str, Any]]:
    resources = []
    url = f"/fhir/r4/{type_name}?_count=100"
    while url:
        response = client.get(url)
        assert response.status_code == 200, (type_name, response.content[:500])
        bundle = response.json()
        validate(bundle)
        resources += [e["resource"] for e in bundle["entry"]]
        url = next((ln["url"] for ln in bundle["link"] if ln["relation"] == "next"), None)
    return resources


def test_every_resource_of_every_type_validates_and_reads_back(world, record):
    # given a patient with a record of every kind, and a prescriber's token
    client = fhir_client(world, world.staff["prescriber"])
    seen = {}
    for type_name in sorted(REGISTRY):
        # when every resource of the type is searched page by page, and each is read
        resources = _all(client, type_name)
        seen[type_name] = len(resources)
        for resource in resources:
            read = client.get(f"/fhir/r4/{type_name}/{resource['id']}")
            # then each validates and reads back as the search gave it
            assert read.status_code == 200, (type_name, resource["id"])
            validate(read.json())
            assert read.json() == resource
    # and the record really has every kind of resource
    assert all(seen.values()), seen


def test_capability_statement_is_r4_and_lists_every_served_type(client):
    response = client.get("/fhir/r4/metadata")
    assert response.status_code == 200
    body = response.json()
    validate(body)
    assert body["fhirVersion"] == "4.0.1"
    assert {r["type"] for r in body["rest"][0]["resource"]} == set(REGISTRY)
    assert "MedicationRequest" in REGISTRY  # at-home prescriptions


def test_vital_signs_carry_loinc_codes_and_ucum_units(world, record):
    client = fhir_client(world, world.staff["nurse"])
    patient = world.patient_a.pk
    bundle = client.get(f"/fhir/r4/Observation?patient={patient}&category=vital-signs&_count=500")
    observations = [e["resource"] for e in bundle.json()["entry"]]
    by_code = {}
    for obs in observations:
        for c in obs["code"]["coding"]:
            by_code.setdefault(c["code"], obs)
    panel = by_code["85354-9"]
    assert [c["code"]["coding"][0]["code"] for c in panel["component"]] == ["8480-6", "8462-4"]
    assert panel["component"][0]["valueQuantity"]["code"] == "mm[Hg]"
    assert by_code["8867-4"]["valueQuantity"]["code"] == "/min"
    assert by_code["9279-1"]["valueQuantity"] == {
        "value": 14,
        "unit": "/min",
        "system": "http://unitsofmeasure.org",
        "code": "/min",
    }
    assert {c["code"] for c in by_code["59408-5"]["code"]["coding"]} == {"59408-5", "2708-6"}
    assert by_code["59408-5"]["valueQuantity"]["code"] == "%"
    assert by_code["29463-7"]["valueQuantity"]["code"] == "kg"
    assert by_code["8302-2"]["valueQuantity"]["code"] == "cm"
    assert by_code["8310-5"]["valueQuantity"]["code"] == "Cel"


def test_rating_scale_totals_carry_their_loinc_codes(world, record):
    client = fhir_client(world, world.staff["therapist"])
    phq = client.get("/fhir/r4/Observation?code=http://loinc.org|44261-6").json()
    gad = client.get("/fhir/r4/Observation?code=http://loinc.org|70274-6").json()
    assert phq["total"] >= 3 and gad["total"] == 1
    assert {e["resource"]["valueInteger"] for e in phq["entry"]} >= {20, 19, 18}
    assert gad["entry"][0]["resource"]["valueInteger"] == 7


def test_administration_is_rxnorm_coded_with_dose_route_and_lot(world, record):
    client = fhir_client(world, world.staff["nurse"])
    bundle = client.get(f"/fhir/r4/MedicationAdministration?patient={world.patient_a.pk}").json()
    (admin,) = [e["resource"] for e in bundle["entry"]]
    medication = admin["contained"][0]
    assert medication["code"]["coding"][0] == {
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
        "code": "6130",
        "display": "ketamine",
    }
    assert medication["batch"]["lotNumber"]
    assert admin["dosage"]["dose"]["code"] == "mg"
    assert admin["dosage"]["route"]["coding"][0]["code"] == "47625008"
    assert admin["context"] == {"reference": f"Encounter/{record['session'].pk}"}


def test_chart_medicines_carry_the_vocabularys_rxnorm_ingredient_code(world, record):
    client = fhir_client(world, world.staff["nurse"])
    bundle = client.get(f"/fhir/r4/MedicationStatement?patient={world.patient_a.pk}").json()
    (statement,) = [e["resource"] for e in bundle["entry"]]
    assert statement["medicationCodeableConcept"]["coding"] == [
        {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": "36437",
            "display": "sertraline",
        }
    ]
