"""Bulk Data export: kick-off 202, the worker writes NDJSON per type, status, files, expiry."""

import json
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from ketacare.fhir.bulk import exports_prune
from ketacare.fhir.models import ExportJob
from tests.fhir.factories import fhir_client
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db(transaction=False)

ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


@pytest.fixture(autouse=True)
def worker_keeps_the_test_connection(monkeypatch):
    # The worker closes stale connections between tasks; in a test that would close the
    # connection holding the test's transaction, so the check is skipped here.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.KETACARE_EXPORT_DIR = str(tmp_path / "exports")
    return tmp_path / "exports"


def _run_worker():
    # The worker installs its own signal handlers; the test run gets its own back afterwards.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def _kickoff(client, url):
    response = client.get(url, **ASYNC)
    assert response.status_code == 202, response.content
    return response["Content-Location"].removeprefix("http://testserver")


def _manifest(client, status_url):
    response = client.get(status_url)
    assert response.status_code == 200, response.status_code
    return response.json()


def _lines(client, output):
    response = client.get(output["url"].removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


def test_system_export_writes_valid_ndjson_per_type_through_the_worker(
    world, record, django_capture_on_commit_callbacks
):
    client = fhir_client(world, world.staff["admin"])
    # when the admin kicks off an export, then it is accepted with a status URL
    with django_capture_on_commit_callbacks(execute=True):
        status_url = _kickoff(client, "/fhir/r4/$export")
    assert client.get(status_url).status_code == 202  # queued, not yet run
    # and the background worker writes the files
    _run_worker()
    manifest = _manifest(client, status_url)
    assert manifest["requiresAccessToken"] is True
    types = {o["type"] for o in manifest["output"]}
    assert {"Patient", "Observation", "MedicationAdministration", "Encounter"} <= types
    for output in manifest["output"]:
        resources = _lines(client, output)
        assert len(resources) == output["count"]
        for resource in resources:
            assert resource["resourceType"] == output["type"]
            validate(resource)
    patients = _lines(client, next(o for o in manifest["output"] if o["type"] == "Patient"))
    # only clinic A's patients leave
    assert {p["id"] for p in patients} == {str(world.patient_a.pk)}


def test_patient_and_group_exports_honour_type_and_since(
    world, record, django_capture_on_commit_callbacks
):
    client = fhir_client(world, world.staff["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        everything = _kickoff(client, "/fhir/r4/Patient/$export?_type=Observation,Patient")
        later = (timezone.now() + timedelta(minutes=1)).isoformat().replace("+", "%2B")
        since = _kickoff(client, f"/fhir/r4/Group/active-course/$export?_since={later}")
    _run_worker()
    outputs = _manifest(client, everything)["output"]
    assert sorted(o["type"] for o in outputs) == ["Observation", "Patient"]
    assert _manifest(client, since)["output"] == []  # nothing changed after _since


def test_bad_kickoffs_are_refused(world, record):
    admin = fhir_client(world, world.staff["admin"])
    assert admin.get("/fhir/r4/$export?_type=Nothing", **ASYNC).status_code == 400
    assert admin.get("/fhir/r4/$export?_typeFilter=x", **ASYNC).status_code == 400
    assert admin.get("/fhir/r4/$export?_since=yesterday", **ASYNC).status_code == 400
    assert admin.get("/fhir/r4/$export?_outputFormat=csv", **ASYNC).status_code == 400
    assert admin.get("/fhir/r4/$export", HTTP_PREFER="return=minimal").status_code == 400
    assert admin.get("/fhir/r4/Group/nobody/$export", **ASYNC).status_code == 404
    # a nurse may read but not export the clinic
    nurse = fhir_client(world, world.staff["nurse"])
    assert nurse.get("/fhir/r4/$export", **ASYNC).status_code == 403
    assert ExportJob.objects.count() == 0


def test_export_status_and_files_belong_to_the_requester_only(
    world, record, django_capture_on_commit_callbacks
):
    admin = fhir_client(world, world.staff["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        status_url = _kickoff(admin, "/fhir/r4/$export?_type=Patient")
    _run_worker()
    file_url = _manifest(admin, status_url)["output"][0]["url"].removeprefix("http://testserver")
    outsider = fhir_client(world, world.outsiders["admin"])
    assert outsider.get(status_url).status_code == 404
    assert outsider.get(file_url).status_code == 404


def test_files_expire_and_are_deleted(
    world, record, export_dir, django_capture_on_commit_callbacks
):
    admin = fhir_client(world, world.staff["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        status_url = _kickoff(admin, "/fhir/r4/$export?_type=Patient")
    _run_worker()
    job = ExportJob.objects.get()
    assert job.expires_at is not None and list(Path(export_dir).rglob("*.ndjson"))
    # when the expiry passes
    assert exports_prune(now=job.expires_at + timedelta(seconds=1)) == 1
    # then the files are gone and the status answers 404
    assert not list(Path(export_dir).rglob("*.ndjson"))
    assert admin.get(status_url).status_code == 404


def test_delete_cancels_an_export(world, record, django_capture_on_commit_callbacks):
    admin = fhir_client(world, world.staff["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        status_url = _kickoff(admin, "/fhir/r4/$export?_type=Patient")
    assert admin.delete(status_url).status_code == 202
    _run_worker()
    assert admin.get(status_url).status_code == 404
