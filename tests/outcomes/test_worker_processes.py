"""Two real `ketacare worker` processes at once, against a real database of their own (SQLite
file, or a throwaway PostgreSQL database when DATABASE_URL is set): each questionnaire is sent
once. Separate processes cannot see a test's uncommitted data, hence the database of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KETACARE = str(Path(sys.executable).with_name("ketacare"))
PATIENTS = 60

SEED = f"""
from datetime import date, timedelta
from django.utils import timezone
from ketacare.accounts.models import Clinic
from ketacare.patients.models import Patient
from ketacare.outcomes.models import QuestionnaireAssignment
from ketacare.followup.tasks import questionnaires_tick
clinic = Clinic.objects.create(slug="workers", name="Worker Clinic")
now = timezone.now()
for n in range({PATIENTS}):
    patient = Patient.objects.create(
        clinic=clinic, mrn=f"W{{n:05d}}", given_name="Pat", family_name=f"Ient{{n}}",
        date_of_birth=date(1980, 1, 1), email=f"patient{{n}}@patients.example",
    )
    for instrument_id in ("phq9", "gad7"):
        QuestionnaireAssignment.objects.create(
            clinic=clinic, patient=patient, instrument_id=instrument_id, trigger="manual",
            slot="parallel", opens_at=now - timedelta(minutes=1), due_by=now + timedelta(days=3),
        )
questionnaires_tick.enqueue()
questionnaires_tick.enqueue()
"""

REPORT = """
import json
from django.db.models import Count
from ketacare.outcomes.models import QuestionnaireDelivery, PortalLink
per = QuestionnaireDelivery.objects.values("assignment_id", "kind").annotate(n=Count("id"))
print(json.dumps({
    "deliveries": QuestionnaireDelivery.objects.count(),
    "max_per_assignment": max([row["n"] for row in per] or [0]),
    "workers": sorted(set(QuestionnaireDelivery.objects.values_list("worker", flat=True))),
    "links": PortalLink.objects.count(),
}))
"""


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for subprocesses pointing at a database nobody else uses."""
    env = {
        **os.environ,
        "KETACARE_DATA_DIR": str(tmp_path),
        "KETACARE_EMAIL_BACKEND": "tests.outcomes.slow_mail.SlowConsoleBackend",
        "PYTHONPATH": str(REPO),
        "DJANGO_DEBUG": "0",
    }
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield env
        return
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"kc_outcomes_workers_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**env, "DATABASE_URL": f"{base}/{name}"}
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [KETACARE, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_two_worker_processes_at_once_send_each_questionnaire_once(own_database):
    # given a database with 60 patients, each with two questionnaires due, and two ticks queued
    _run(own_database, "migrate", "-v0")
    _run(own_database, "shell", "-c", SEED)
    # when two workers start at the same moment and each runs a dispatch pass
    command = [KETACARE, "worker", "--batch", "--no-startup-delay", "--no-reload", "-v0"]
    workers = [
        subprocess.Popen(
            command,
            env=own_database,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=240) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-2000:] for _, err in outputs]
    # then every questionnaire was claimed once and every patient got exactly one e-mail
    sent_to = [
        line.removeprefix("To: ")
        for out, _ in outputs
        for line in out.splitlines()
        if line.startswith("To: patient")
    ]
    assert len(sent_to) == PATIENTS and len(set(sent_to)) == PATIENTS
    report = json.loads(_run(own_database, "shell", "-c", REPORT).stdout.strip().splitlines()[-1])
    print("worker report:", report)
    assert report["deliveries"] == 2 * PATIENTS
    assert report["max_per_assignment"] == 1
    assert report["links"] == PATIENTS
