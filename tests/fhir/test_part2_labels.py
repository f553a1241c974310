"""Records of a 42 CFR Part 2 programme leave through FHIR only with their security labels and
the notice against redisclosure; today the server serves none of them, so a patient's FHIR record
is the same with or without them."""

import dataclasses

import pytest
from django.db.models import F

from ketacare.clinical.recovery import REDISCLOSURE_NOTICE
from ketacare.fhir import codes as c
from ketacare.fhir.bulk import export_resources
from ketacare.fhir.record import patient_bundle
from ketacare.fhir.registry import (
    PART2_NOTICE_HEADER,
    PART2_SECURITY,
    REGISTRY,
    BuildContext,
    Source,
    build_all,
    meta,
    reference,
)
from ketacare.recovery import services
from ketacare.recovery.models import DrugScreen
from ketacare.recovery.services.common import today_of
from tests.fhir.factories import clinical_record, fhir_client
from tests.fhir.validation import validate
from tests.ledger.factories import as_actor

pytestmark = pytest.mark.django_db


def _screen_observation(row, ctx):
    return {
        "resourceType": "Observation",
        "id": f"uds-{row.pk}",
        "meta": meta(row.recorded_at),
        "status": "final",
        "code": {"coding": [{"system": c.LOCAL, "code": f"uds-{row.substance}"}]},
        "subject": reference("Patient", row.patient_id),
        "effectiveDateTime": row.collected_on.isoformat(),
        "valueString": row.result,
    }


# A source over the recovery app's drug screens, as a future Observation source would read them.
SCREENS = Source(
    prefix="uds",
    model=DrugScreen,
    build=_screen_observation,
    date_lookup="collected_on",
    updated=F("recorded_at"),
)


def _part2_records(world):
    nurse = as_actor(world.staff["nurse"], world.clinic_a, "nurse")
    prescriber = as_actor(world.staff["prescriber"], world.clinic_a, "prescriber")
    pid, today = world.patient_a.pk, today_of(nurse)
    services.programme_start(
        actor=prescriber, patient_id=pid, substance="alcohol", started_on=today
    )
    services.use_day_mark(actor=nurse, patient_id=pid, day=today, used=False)
    services.withdrawal_check_record(actor=nurse, patient_id=pid, answers=[False] * 7)
    return services.drug_screen_record(
        actor=nurse,
        patient_id=pid,
        collected_on=today,
        substance="cocaine",
        result="negative",
        confirmed=False,
        prescribed=False,
    )


def test_a_resource_built_from_a_part2_record_carries_the_security_labels(world):
    # given a drug screen of a Part 2 programme
    screen = _part2_records(world)
    # when any source over the recovery app builds it
    (resource,) = build_all(SCREENS, [screen], BuildContext(clinic=world.clinic_a))
    # then it carries the 42CFRPart2 policy, restricted confidentiality and the obligation
    validate(resource)
    security = {(s["system"], s["code"]) for s in resource["meta"]["security"]}
    assert security == {
        ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "42CFRPart2"),
        ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R"),
        ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "NORDSCLCD"),
    }
    assert resource["meta"]["lastUpdated"]


def test_every_answer_holding_a_part2_record_carries_labels_and_notice(world, monkeypatch):
    # given Observation also read from the recovery app's drug screens
    screen = _part2_records(world)
    clinical_record(world.clinic_a, world.patient_a, world.staff, weights=1, phq9=1)
    observation = REGISTRY["Observation"]
    monkeypatch.setitem(
        REGISTRY,
        "Observation",
        dataclasses.replace(observation, sources=(*observation.sources, SCREENS)),
    )
    client = fhir_client(world, world.staff["prescriber"])
    # when it is read, searched, exported in bulk and downloaded with the patient's record
    read = client.get(f"/fhir/r4/Observation/uds-{screen.pk}")
    found = client.get(f"/fhir/r4/Observation?patient={world.patient_a.pk}&_count=500")
    ctx = BuildContext(clinic=world.clinic_a)
    exported = [
        r for r in export_resources(REGISTRY["Observation"], ctx) if r["id"] == read.json()["id"]
    ]
    bundled = [
        e["resource"]
        for e in patient_bundle(world.patient_a)["entry"]
        if e["resource"]["id"] == f"uds-{screen.pk}"
    ]
    # then each copy carries the labels, and each FHIR answer the notice
    assert read.status_code == 200, read.content
    assert found.status_code == 200, found.content
    validate(found.json())
    in_search = [
        e["resource"] for e in found.json()["entry"] if e["resource"]["id"] == f"uds-{screen.pk}"
    ]
    for copy in [read.json(), *in_search, *exported, *bundled]:
        assert all(label in copy["meta"]["security"] for label in PART2_SECURITY)
    assert len(in_search) == len(exported) == len(bundled) == 1
    assert read[PART2_NOTICE_HEADER] == found[PART2_NOTICE_HEADER] == REDISCLOSURE_NOTICE
    # and the other resources of the answer carry no Part 2 label
    others = [
        e["resource"] for e in found.json()["entry"] if not e["resource"]["id"].startswith("uds-")
    ]
    assert others
    assert not any("security" in r.get("meta", {}) for r in others)


def test_an_answer_without_part2_records_carries_no_notice(world):
    clinical_record(world.clinic_a, world.patient_a, world.staff, weights=1, phq9=1)
    client = fhir_client(world, world.staff["prescriber"])
    found = client.get(f"/fhir/r4/Observation?patient={world.patient_a.pk}")
    assert found.status_code == 200
    assert found.json()["total"] > 0
    assert PART2_NOTICE_HEADER not in found


def test_no_fhir_resource_is_read_from_a_part2_programme_today(world):
    # every source is outside the recovery app (were one added, it would be labelled: above)
    assert [
        (name, s.model.__name__)
        for name, t in REGISTRY.items()
        for s in t.sources
        if s.model._meta.app_label == "recovery"
    ] == []
    # and the patient's FHIR record, whole and in bulk, is the same with their Part 2 records
    clinical_record(world.clinic_a, world.patient_a, world.staff, weights=1, phq9=1)
    ctx = BuildContext(clinic=world.clinic_a)

    def everything():
        bundle = {
            (e["resource"]["resourceType"], e["resource"]["id"])
            for e in patient_bundle(world.patient_a)["entry"]
        }
        bulk = {(name, r["id"]) for name, t in REGISTRY.items() for r in export_resources(t, ctx)}
        return bundle, bulk

    before = everything()
    _part2_records(world)
    assert everything() == before
