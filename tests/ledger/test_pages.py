"""Ledger and REMS pages: what each role sees, refusals on the form, and query budgets."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketacare.ledger import services
from ketacare.ledger.models import LedgerEntry
from ketacare.rems.services import monitoring_form_open
from tests.factories import PatientFactory
from tests.ledger.factories import PASSWORD
from tests.treatment.factories import session_row

pytestmark = pytest.mark.django_db


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def _doses(stock, world, n):
    """n sessions, each drawing 50 mg, given 35 and wasting 15 before a witness."""
    vials = stock.receive(count=n, prefix=f"Q{LedgerEntry.objects.count()}")
    nurse = stock.actor("nurse")
    for vial in vials:
        patient = PatientFactory(clinic=world.clinic_a)
        session = session_row(world.clinic_a, patient, world.staff)
        draw = services.draw_create(
            actor=nurse, container_id=vial.pk, session_id=session.pk, quantity="50"
        )
        services.draw_administer(actor=nurse, draw_id=draw.pk, dose_mg=Decimal("35"))
        services.draw_waste(
            actor=nurse, draw_id=draw.pk, quantity="15",
            witness_username=world.staff["prescriber"].username, witness_password=PASSWORD,
        )  # fmt: skip
    return vials


@pytest.mark.parametrize(
    "url",
    ["/ledger/", "/ledger/reports/dispensing/", "/ledger/reports/receipts/",
     "/ledger/discrepancies/", "/rems/"],
)  # fmt: skip
def test_list_pages_make_as_many_queries_with_one_row_as_with_many(stock, world, url):
    client = world.web(world.staff["prescriber"])
    _doses(stock, world, 1)
    monitoring_form_open(
        clinic_id=world.clinic_a.pk, session_id=10**6, patient_id=world.patient_a.pk,
        session_day=timezone.localdate(),
    )  # fmt: skip
    one = _queries(client, url)
    _doses(stock, world, 6)
    for n in range(6):
        monitoring_form_open(
            clinic_id=world.clinic_a.pk, session_id=10**6 + n + 1,
            patient_id=world.patient_a.pk, session_day=timezone.localdate(),
        )  # fmt: skip
    assert _queries(client, url) == one


def test_a_containers_page_makes_as_many_queries_with_few_entries_as_with_many(stock, world):
    client = world.web(world.staff["nurse"])
    [vial] = stock.receive(prefix="C")
    url = f"/ledger/containers/{vial.pk}/"
    one = _queries(client, url)
    nurse = stock.actor("nurse")
    for _ in range(5):
        session = session_row(world.clinic_a, world.patient_a, world.staff)
        services.draw_create(actor=nurse, container_id=vial.pk, session_id=session.pk, quantity="5")
    assert _queries(client, url) == one


def test_a_waste_witnessed_by_the_drawer_is_refused_on_the_page_and_nothing_is_written(
    stock, world
):
    [vial] = stock.receive()
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity="50"
    )
    client = world.web(world.staff["nurse"])
    response = client.post(
        f"/ledger/draws/{draw.pk}/waste/",
        {"quantity": "10", "witness_username": world.staff["nurse"].username,
         "witness_password": PASSWORD},
    )  # fmt: skip
    assert response.status_code == 422
    assert b"cannot witness" in response.content
    assert not LedgerEntry.objects.filter(kind="waste").exists()


def test_a_bad_quantity_is_refused_naming_the_field(stock, world):
    [vial] = stock.receive()
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    client = world.web(world.staff["nurse"])
    response = client.post(
        f"/ledger/sessions/{session.pk}/", {"container_id": vial.pk, "quantity": "1e9"}
    )
    assert response.status_code == 422
    assert not LedgerEntry.objects.filter(kind="draw").exists()


def test_the_report_csv_quotes_cells_a_spreadsheet_would_run(stock, world):
    patient = world.patient_a
    patient.given_name = "=HYPERLINK(1)"
    patient.save()
    [vial] = stock.receive()
    session = session_row(world.clinic_a, patient, world.staff)
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity="5"
    )
    services.draw_administer(actor=stock.actor("nurse"), draw_id=draw.pk, dose_mg=Decimal("5"))
    response = world.web(world.staff["admin"]).get("/ledger/reports/dispensing/?format=csv")
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert ",'=HYPERLINK(1)" in body and ",=HYPERLINK" not in body


def test_reconcile_page_lists_an_administration_without_a_dose(stock, world):
    [vial] = stock.receive()
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    draw = services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity="5"
    )
    entry = services.draw_administer(
        actor=stock.actor("nurse"), draw_id=draw.pk, dose_mg=Decimal("5")
    )
    response = world.web(world.staff["prescriber"]).get("/ledger/reconcile/")
    assert f"Entry id {entry.pk}".encode() in response.content


def test_reading_a_container_and_a_sessions_draws_is_audited_with_the_patients(stock, world):
    # given a vial a session drew from
    from ketacare.audit.models import AuditEntry

    [vial] = stock.receive()
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    services.draw_create(
        actor=stock.actor("nurse"), container_id=vial.pk, session_id=session.pk, quantity="5"
    )
    client = world.web(world.staff["nurse"])
    # when the container's page and the session's draws are read
    client.get(f"/ledger/containers/{vial.pk}/")
    client.get(f"/ledger/sessions/{session.pk}/")
    # then both reads are on the trail, naming the patient
    listed = AuditEntry.objects.get(object_type="ledger_container", object_id=str(vial.pk))
    assert (listed.action, listed.detail["patient_ids"]) == ("list", [world.patient_a.pk])
    read = AuditEntry.objects.get(object_type="ledger_session", object_id=str(session.pk))
    assert (read.action, read.patient_id) == ("read", world.patient_a.pk)
