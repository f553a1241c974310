"""A patient downloads their own record from the portal: FHIR JSON and a PDF summary."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.audit.models import AuditEntry
from ketacare.fhir.models import RecordLink
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db


def _issue(world, role="nurse"):
    page = world.web(world.staff[role]).post(f"/records/patients/{world.patient_a.pk}/")
    assert page.status_code == 200
    match = re.search(r"http://testserver(/portal/record/[^/]+/)", page.content.decode())
    assert match, "the page shows the new link once"
    return match.group(1)


def test_the_patient_downloads_their_record_as_fhir_json_and_pdf(world, record):
    # given a link a nurse issued
    url = _issue(world)
    patient = Client()
    # when the patient opens it
    page = patient.get(url)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "Download the full record" in page.content.decode()
    # then the JSON is a FHIR Bundle of their record only
    bundle = patient.get(url + "record.json")
    assert bundle["Content-Type"].startswith("application/fhir+json")
    body = bundle.json()
    validate(body)
    kinds = {e["resource"]["resourceType"] for e in body["entry"]}
    assert {"Patient", "Observation", "MedicationAdministration", "Condition"} <= kinds
    patients = {
        e["resource"]["id"] for e in body["entry"] if e["resource"]["resourceType"] == "Patient"
    }
    assert patients == {str(world.patient_a.pk)}
    # and the PDF is a readable summary
    pdf = patient.get(url + "summary.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert len(pdf.content) > 1500
    # and every download is audited against the patient
    formats = list(
        AuditEntry.objects.filter(object_type="record_download", patient_id=world.patient_a.pk)
        .order_by("seq")
        .values_list("detail__format", flat=True)
    )
    assert formats == ["page", "fhir+json", "pdf"]


def test_an_expired_or_unknown_link_opens_nothing(world, record):
    url = _issue(world)
    RecordLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(url).status_code == 404
    assert Client().get(url + "record.json").status_code == 404
    assert Client().get("/portal/record/not-a-token/summary.pdf").status_code == 404


def test_front_desk_cannot_issue_a_record_link_and_other_clinics_get_404(world):
    front = world.web(world.staff["front_desk"]).post(f"/records/patients/{world.patient_a.pk}/")
    assert front.status_code == 403
    outsider = world.web(world.outsiders["nurse"]).post(f"/records/patients/{world.patient_a.pk}/")
    assert outsider.status_code == 404
    assert not RecordLink.objects.exists()
