"""Patient search and the patient list's pages: by name prefix through an index, keyset pages."""

import pytest
from django.db import connection

from ketacare.accounts.access import actor_for
from ketacare.dbstats import database_optimize
from ketacare.patients.selectors import _patients_matching
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _names(response):
    return [p.family_name for p in response.context["patients"]]


def test_search_finds_family_and_given_names_by_their_start_in_any_case(world):
    PatientFactory(clinic=world.clinic_a, family_name="Rivera", given_name="Omar")
    PatientFactory(clinic=world.clinic_a, family_name="Okafor", given_name="Rivka")
    PatientFactory(clinic=world.clinic_a, family_name="Haddad", given_name="Lena")
    client = world.web(world.staff["nurse"])
    assert sorted(_names(client.get("/patients/", {"q": "riv"}))) == ["Okafor", "Rivera"]
    assert _names(client.get("/patients/", {"q": "HADD"})) == ["Haddad"]
    assert _names(client.get("/patients/", {"q": "zzz"})) == []


def test_search_finds_a_patient_by_mrn(world):
    patient = PatientFactory(clinic=world.clinic_a, mrn="N00777")
    client = world.web(world.staff["nurse"])
    assert [p.pk for p in client.get("/patients/", {"q": "n00777"}).context["patients"]] == [
        patient.pk
    ]


def test_search_never_shows_another_clinics_patient(world):
    PatientFactory(clinic=world.clinic_b, family_name="Rivera")
    client = world.web(world.staff["nurse"])
    assert _names(client.get("/patients/", {"q": "Rivera"})) == []


def test_the_name_search_is_answered_by_an_index_not_a_scan_of_the_clinic(world):
    # given a clinic of patients, the planner's statistics, and the query a search makes
    PatientFactory.create_batch(300, clinic=world.clinic_a)
    database_optimize()
    actor = actor_for(
        user=world.staff["nurse"], clinic_id=world.clinic_a.pk, address="", channel="web"
    )
    query = _patients_matching(actor, "riv").order_by("family_name", "given_name", "id")[:51]
    sql, params = query.query.sql_with_params()
    # when the database plans it
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    # then the lower-cased name indexes answer it
    assert "name_key" in plan, plan


def test_the_next_links_walk_every_patient_once_in_name_order(world):
    PatientFactory.create_batch(120, clinic=world.clinic_a)
    client = world.web(world.staff["nurse"])
    seen, cursor = [], None
    while True:
        response = client.get("/patients/", {"after": cursor} if cursor else {})
        page = response.context["page"]
        seen += [(p.family_name, p.given_name, p.pk) for p in page]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 121  # and the world's own patient
    assert seen == sorted(seen)
