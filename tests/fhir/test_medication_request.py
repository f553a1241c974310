"""At-home prescriptions as MedicationRequest: validated, read and searched by patient, clinic
isolation, roles, audit, and the patient's whole-record bundle."""

import pytest

from ketacare.audit.models import AuditEntry
from ketacare.fhir.bulk import patient_types
from ketacare.fhir.record import patient_bundle
from ketacare.fhir.resources.prescriptions import medication_codings
from tests.factories import PatientFactory
from tests.fhir.athome_factories import home_prescription
from tests.fhir.factories import fhir_client
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def prescription(world):
    return home_prescription(world.clinic_a, world.patient_a, world.staff)


def test_a_prescription_reads_as_a_valid_community_medication_request(world, prescription):
    client = fhir_client(world, world.staff["prescriber"])
    response = client.get(f"/fhir/r4/MedicationRequest/{prescription.pk}")
    assert response.status_code == 200
    resource = response.json()
    validate(resource)
    assert resource["meta"]["profile"] == [
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-medicationrequest"
    ]
    assert (resource["status"], resource["intent"]) == ("active", "order")
    assert resource["category"][0]["coding"][0]["code"] == "community"
    assert resource["subject"] == {"reference": f"Patient/{world.patient_a.pk}"}
    assert resource["requester"] == {"reference": f"Practitioner/{world.staff['prescriber'].pk}"}
    concept = resource["medicationCodeableConcept"]
    assert concept["coding"][0]["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert concept["coding"][0]["code"] == "6130"
    assert concept["text"] == "Ketamine HCl 50 mg sublingual troche"
    dosage = resource["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 50
    assert dosage["route"]["coding"][0]["code"] == "37839007"  # SNOMED sublingual
    assert resource["dispenseRequest"]["numberOfRepeatsAllowed"] == 1
    assert resource["dispenseRequest"]["quantity"]["value"] == 4


def test_a_medicine_the_vocabulary_does_not_read_gets_text_and_no_code():
    assert medication_codings("Grandma's sleep tea") == []
    assert [c["code"] for c in medication_codings("ketamine hydrochloride")] == ["6130"]


def test_search_by_patient_finds_only_that_patients_prescriptions(world, prescription):
    other = PatientFactory(clinic=world.clinic_a)
    home_prescription(world.clinic_a, other, world.staff)
    client = fhir_client(world, world.staff["nurse"])
    bundle = client.get(f"/fhir/r4/MedicationRequest?patient={world.patient_a.pk}").json()
    validate(bundle)
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(prescription.pk)]
    by_subject = client.get(f"/fhir/r4/MedicationRequest?subject=Patient/{other.pk}").json()
    assert by_subject["total"] == 1


def test_search_by_status_code_category_and_date(world, prescription):
    paused = home_prescription(
        world.clinic_a, PatientFactory(clinic=world.clinic_a), world.staff, status="paused"
    )
    client = fhir_client(world, world.staff["prescriber"])

    def ids(query):
        response = client.get(f"/fhir/r4/MedicationRequest?{query}")
        assert response.status_code == 200, response.content
        return {e["resource"]["id"] for e in response.json()["entry"]}

    assert ids("status=on-hold") == {str(paused.pk)}
    assert ids("status=active") == {str(prescription.pk)}
    everything = {str(prescription.pk), str(paused.pk)}
    assert ids("code=http://www.nlm.nih.gov/research/umls/rxnorm|6130") == everything
    assert ids("code=http://snomed.info/sct|6130") == set()
    assert ids("category=community") == everything
    assert ids("category=inpatient") == set()
    assert ids("authoredon=ge2020-01-01") == everything
    assert ids("date=lt2020-01-01") == set()
    refused = client.get("/fhir/r4/MedicationRequest?intent=order&dose=5")
    assert refused.status_code == 400
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert refused.json()["issue"][0]["expression"] == ["dose"]


def test_search_by_patient_and_intent_as_us_core_asks(world, prescription):
    client = fhir_client(world, world.staff["prescriber"])

    def ids(query):
        response = client.get(f"/fhir/r4/MedicationRequest?{query}")
        assert response.status_code == 200, response.content
        bundle = response.json()
        validate(bundle)
        assert all(e["resource"]["intent"] == "order" for e in bundle.get("entry", []))
        return {e["resource"]["id"] for e in bundle.get("entry", [])}

    mine = {str(prescription.pk)}
    intent = "http://hl7.org/fhir/CodeSystem/medicationrequest-intent"
    # every prescription KetaCare serves is an order
    assert ids(f"patient={world.patient_a.pk}&intent=order") == mine
    assert ids(f"patient={world.patient_a.pk}&intent={intent}|order") == mine
    assert ids("intent=proposal,order") == mine
    assert ids(f"patient={world.patient_a.pk}&intent=plan") == set()
    assert ids("intent=order&intent=plan") == set()
    assert ids(f"subject=Patient/{world.patient_b.pk}&intent=order") == set()


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("intent=ordered", "is not a code of 'intent'"),
        ("intent=", "empty code"),
        ("intent=http://snomed.info/sct|order", "the system of 'intent'"),
        ("intent:not=order", "modifier"),
    ],
)
def test_an_intent_outside_its_value_set_answers_400_naming_it(world, prescription, query, why):
    client = fhir_client(world, world.staff["prescriber"])
    response = client.get(f"/fhir/r4/MedicationRequest?{query}")
    assert response.status_code == 400
    outcome = response.json()
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"
    assert why in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"][0].startswith("intent")


def test_the_capability_statement_declares_intent_as_a_token(world):
    client = fhir_client(world, world.staff["prescriber"])
    statement = client.get("/fhir/r4/metadata").json()
    medreq = next(r for r in statement["rest"][0]["resource"] if r["type"] == "MedicationRequest")
    assert {"name": "intent", "type": "token"} in medreq["searchParam"]


def test_the_prescriber_is_included_on_request(world, prescription):
    client = fhir_client(world, world.staff["nurse"])
    bundle = client.get(
        f"/fhir/r4/MedicationRequest?patient={world.patient_a.pk}"
        "&_include=MedicationRequest:requester"
    ).json()
    validate(bundle)
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert [(r["resourceType"], r["id"]) for r in included] == [
        ("Practitioner", str(world.staff["prescriber"].pk))
    ]


def test_another_clinics_prescription_answers_404_and_is_not_searchable(world, prescription):
    outsider = fhir_client(world, world.outsiders["prescriber"])
    response = outsider.get(f"/fhir/r4/MedicationRequest/{prescription.pk}")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
    listing = outsider.get(f"/fhir/r4/MedicationRequest?patient={world.patient_a.pk}").json()
    assert listing["total"] == 0
    assert outsider.get("/fhir/r4/MedicationRequest").json()["total"] == 0


def test_front_desk_and_tokens_without_the_scope_cannot_read_prescriptions(world, prescription):
    front = fhir_client(world, world.staff["front_desk"])
    refused = front.get(f"/fhir/r4/MedicationRequest/{prescription.pk}")
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    scoped = fhir_client(world, world.staff["nurse"], scopes="user/Observation.read")
    assert scoped.get("/fhir/r4/MedicationRequest").status_code == 403
    allowed = fhir_client(world, world.staff["therapist"], scopes="user/MedicationRequest.read")
    assert allowed.get(f"/fhir/r4/MedicationRequest/{prescription.pk}").status_code == 200


def test_reads_and_searches_of_prescriptions_are_audited_with_the_patient(world, prescription):
    client = fhir_client(world, world.staff["nurse"])
    client.get(f"/fhir/r4/MedicationRequest/{prescription.pk}")
    client.get(f"/fhir/r4/MedicationRequest?patient={world.patient_a.pk}")
    read, listing = AuditEntry.objects.order_by("-seq")[:2][::-1]
    assert (read.action, read.object_type, read.patient_id) == (
        "read",
        "fhir:MedicationRequest",
        world.patient_a.pk,
    )
    assert (listing.action, listing.object_type) == ("list", "fhir:MedicationRequest")
    assert listing.detail["ids"] == [str(prescription.pk)]
    assert listing.detail["patient_ids"] == [world.patient_a.pk]


def test_the_patients_whole_record_and_patient_export_carry_their_prescriptions(
    world, prescription
):
    home_prescription(world.clinic_b, world.patient_b, world.outsiders)
    bundle = patient_bundle(world.patient_a)
    validate(bundle)
    requests = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert [r["id"] for r in requests] == [str(prescription.pk)]
    assert "MedicationRequest" in patient_types()
