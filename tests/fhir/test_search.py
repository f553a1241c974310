"""Search as clients use it: parameters, prefixes, paging, includes, and refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.audit.models import AuditEntry
from tests.fhir.factories import fhir_client
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content[:400]
    return [e["resource"]["id"] for e in response.json()["entry"]]


@pytest.mark.parametrize(
    "query",
    [
        "shoe_size=9",
        "name:contains=x",
        "date=xx2026",
        "date=2026-13-01",
        "date=ap2026-01-01",
        "_count=ten",
        "_offset=-1",
        "patient=Practitioner/1",
        "_include=Observation:performer",
        "_sort=date",
        "_format=xml",
    ],
)
def test_bad_search_parameters_answer_400_with_an_operation_outcome(world, record, query):
    client = fhir_client(world, world.staff["nurse"])
    response = client.get(f"/fhir/r4/Observation?{query}")
    assert response.status_code == 400
    body = response.json()
    validate(body)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "invalid"
    assert body["issue"][0]["expression"] == [query.split("=")[0]]


def test_every_type_answers_an_unknown_or_foreign_parameter_400_with_an_operation_outcome(world):
    # intent is MedicationRequest's only: on any other type it is unknown, like a made-up one
    from ketacare.accounts.permissions import role_may
    from ketacare.fhir.registry import REGISTRY

    for name, resource_type in sorted(REGISTRY.items()):
        role, user = next(
            (r, u) for r, u in world.staff.items() if role_may(r, resource_type.permission)
        )
        client = fhir_client(world, user)
        queries = ["shoe_size=9"] + ([] if name == "MedicationRequest" else ["intent=order"])
        for query in queries:
            response = client.get(f"/fhir/r4/{name}?{query}")
            assert response.status_code == 400, (name, role, query, response.status_code)
            body = response.json()
            validate(body)
            assert body["issue"][0]["expression"] == [query.split("=")[0]], name


def test_patient_by_name_family_given_identifier_and_birthdate(world, record):
    client = fhir_client(world, world.staff["front_desk"])
    patient = world.patient_a
    assert _ids(client.get(f"/fhir/r4/Patient?name={patient.given_name[:4]}")) == [str(patient.pk)]
    assert _ids(client.get(f"/fhir/r4/Patient?family={patient.family_name}")) == [str(patient.pk)]
    assert _ids(client.get(f"/fhir/r4/Patient?identifier={patient.mrn}")) == [str(patient.pk)]
    assert _ids(client.get("/fhir/r4/Patient?birthdate=1980-05-17")) == [str(patient.pk)]
    assert _ids(client.get("/fhir/r4/Patient?birthdate=gt1980-05-17")) == []
    assert _ids(client.get("/fhir/r4/Patient?birthdate=1980")) == [str(patient.pk)]
    assert _ids(client.get("/fhir/r4/Patient?gender=male")) == []
    # the other clinic's patient never appears
    assert str(world.patient_b.pk) not in _ids(client.get("/fhir/r4/Patient"))


def test_observation_by_code_system_and_code_and_date_prefixes(world, record):
    client = fhir_client(world, world.staff["nurse"])
    # three weights in the chart, and today's from the session's pre-dose check
    weights = client.get("/fhir/r4/Observation?code=http://loinc.org|29463-7").json()
    assert weights["total"] == 4
    # the code without its system, and a wrong system
    assert client.get("/fhir/r4/Observation?code=29463-7").json()["total"] == 4
    assert (
        client.get("/fhir/r4/Observation?code=http://snomed.info/sct|29463-7").json()["total"] == 0
    )
    first = (timezone.now().date() - timedelta(days=50)).isoformat()
    assert client.get(f"/fhir/r4/Observation?code=29463-7&date={first}").json()["total"] == 1
    assert client.get(f"/fhir/r4/Observation?code=29463-7&date=gt{first}").json()["total"] == 3
    assert client.get(f"/fhir/r4/Observation?code=29463-7&date=ge{first}").json()["total"] == 4
    assert client.get(f"/fhir/r4/Observation?code=29463-7&date=lt{first}").json()["total"] == 0
    both = client.get(f"/fhir/r4/Observation?code=29463-7&date=ge{first}&date=le{first}")
    assert both.json()["total"] == 1


def test_category_status_and_last_updated(world, record):
    client = fhir_client(world, world.staff["prescriber"])
    survey = client.get("/fhir/r4/Observation?category=survey").json()
    # three PHQ-9s, one GAD-7, and the pre-dose check's PHQ-9 and C-SSRS
    assert survey["total"] == 6
    assert client.get("/fhir/r4/Observation?category=survey&status=amended").json()["total"] == 0
    future = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert client.get(f"/fhir/r4/Observation?_lastUpdated=gt{future}").json()["total"] == 0
    assert client.get("/fhir/r4/Observation?_lastUpdated=gt2000-01-01").json()["total"] >= 20
    conditions = client.get("/fhir/r4/Condition?clinical-status=resolved").json()
    assert [e["resource"]["code"]["coding"][0]["code"] for e in conditions["entry"]] == ["F41.1"]
    encounters = client.get("/fhir/r4/Encounter?status=in-progress").json()
    assert encounters["total"] == 1


def test_paging_links_walk_every_match_once(world, record):
    client = fhir_client(world, world.staff["nurse"])
    url = f"/fhir/r4/Observation?patient={world.patient_a.pk}&_count=4"
    first = client.get(url).json()
    total = first["total"]
    seen, pages = [], 0
    while url:
        bundle = client.get(url).json()
        assert len(bundle["entry"]) <= 4
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        url = next((ln["url"] for ln in bundle["link"] if ln["relation"] == "next"), None)
        pages += 1
    assert len(seen) == len(set(seen)) == total and pages == -(-total // 4)


def test_id_and_subject_and_include(world, record):
    client = fhir_client(world, world.staff["nurse"])
    session = record["session"]
    bundle = client.get(
        f"/fhir/r4/MedicationAdministration?subject=Patient/{world.patient_a.pk}"
        "&_include=MedicationAdministration:patient&_include=MedicationAdministration:context"
    ).json()
    validate(bundle)
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]}
    assert modes == {
        ("MedicationAdministration", "match"),
        ("Patient", "include"),
        ("Encounter", "include"),
    }
    assert _ids(client.get(f"/fhir/r4/Encounter?_id={session.pk}")) == [str(session.pk)]
    hr = client.get("/fhir/r4/Observation?code=8867-4").json()["entry"][0]["resource"]["id"]
    assert _ids(client.get(f"/fhir/r4/Observation?_id={hr}")) == [hr]


def test_medication_administration_by_patient_and_date(world, record):
    client = fhir_client(world, world.staff["nurse"])
    today = timezone.localdate().isoformat()
    patient = world.patient_a.pk
    assert (
        client.get(f"/fhir/r4/MedicationAdministration?patient={patient}&date={today}").json()[
            "total"
        ]
        == 1
    )
    assert (
        client.get(
            f"/fhir/r4/MedicationAdministration?patient={patient}&effective-time=lt{today}"
        ).json()["total"]
        == 0
    )


def test_another_clinics_resource_answers_404_and_is_not_searchable(world, record):
    outsider = fhir_client(world, world.outsiders["prescriber"])
    session = record["session"]
    for path in (
        f"Patient/{world.patient_a.pk}",
        f"Encounter/{session.pk}",
        f"MedicationAdministration/{session.administration.pk}",
        f"AdverseEvent/{record['adverse_event'].pk}",
        f"Organization/{world.clinic_a.pk}",
    ):
        response = outsider.get(f"/fhir/r4/{path}")
        assert response.status_code == 404, path
        assert response.json()["resourceType"] == "OperationOutcome"
    assert outsider.get(f"/fhir/r4/Observation?patient={world.patient_a.pk}").json()["total"] == 0


def test_roles_and_scopes_both_limit_what_a_token_reads(world, record):
    # front desk may read patients but not the chart
    front = fhir_client(world, world.staff["front_desk"])
    assert front.get(f"/fhir/r4/Patient/{world.patient_a.pk}").status_code == 200
    refused = front.get("/fhir/r4/Observation")
    assert refused.status_code == 403 and refused.json()["issue"][0]["code"] == "forbidden"
    # a nurse token scoped to Observation only
    nurse = fhir_client(world, world.staff["nurse"], scopes="user/Observation.read")
    assert nurse.get("/fhir/r4/Observation").status_code == 200
    assert nurse.get(f"/fhir/r4/Patient/{world.patient_a.pk}").status_code == 403
    # an include the scopes do not cover is left out, not leaked
    bundle = nurse.get("/fhir/r4/Observation?_include=Observation:patient").json()
    assert {e["search"]["mode"] for e in bundle["entry"]} == {"match"}


def test_no_token_answers_401_with_an_outcome(client):
    response = client.get("/fhir/r4/Patient")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["issue"][0]["code"] == "login"


def test_reads_and_searches_are_audited_with_the_patients_they_touched(world, record):
    client = fhir_client(world, world.staff["nurse"])
    before = AuditEntry.objects.count()
    client.get(f"/fhir/r4/Patient/{world.patient_a.pk}")
    client.get(f"/fhir/r4/Observation?patient={world.patient_a.pk}&_count=2")
    read, listing = AuditEntry.objects.order_by("-seq")[:2][::-1]
    assert AuditEntry.objects.count() == before + 2
    assert (read.action, read.object_type, read.patient_id) == (
        "read",
        "fhir:Patient",
        world.patient_a.pk,
    )
    assert listing.action == "list" and listing.object_type == "fhir:Observation"
    assert listing.detail["patient_ids"] == [world.patient_a.pk]
    assert len(listing.detail["ids"]) == 2 and listing.channel == "api"


def test_a_count_of_zero_gives_the_total_and_no_next_link(world, record):
    client = fhir_client(world, world.staff["nurse"])
    bundle = client.get("/fhir/r4/Observation?_count=0").json()
    assert bundle["total"] > 0 and bundle["entry"] == []
    assert "next" not in {link["relation"] for link in bundle["link"]}
