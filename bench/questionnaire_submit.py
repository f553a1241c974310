"""Score and store one questionnaire submission, end to end: median over 200.

`python -m bench.questionnaire_submit` measures on SQLite (a throwaway data directory) and, when
DATABASE_URL is set, on PostgreSQL (a throwaway database on that server, dropped afterwards).
Each measurement runs in its own process, because Django reads its database at start-up.

What is timed is the patient's last tap: the POST of "Send my answers" in the portal, through
Django's test client with DEBUG off. That request rate-limits by address and link, looks the
token up by its hash, scores the nine answers with the clinical core, stores the response,
completes the questionnaire, uses up the link, checks for a safety alert (and a deterioration
since the previous score), and writes the audit trail, in one transaction. Every submission
has its own patient, questionnaire and link (answers already saved item by item), made before
timing starts. A second series answers item 9 above zero, so each submission also opens a
safety alert and queues the staff notice.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import date, timedelta

from bench._harness import run_everywhere

SUBMISSIONS = 200
WARMUP = 10
PLAIN = [1, 2, 1, 1, 0, 1, 2, 1, 0]  # PHQ-9 total 9, item 9 at 0
WITH_ALERT = [1, 2, 1, 1, 0, 1, 2, 1, 1]  # item 9 above 0: a safety alert opens


def _prepare(count: int, answers: list[int], prefix: str) -> list[tuple[str, int]]:
    """`count` patients, each with a PHQ-9 answered but not sent, and a link to it."""
    from django.utils import timezone

    from ketacare.accounts.models import Clinic
    from ketacare.followup.portal import portal_link_issue
    from ketacare.outcomes.models import (
        AssignmentTrigger,
        PortalLinkPurpose,
        QuestionnaireAssignment,
    )
    from ketacare.patients.models import Patient

    clinic, _ = Clinic.objects.get_or_create(slug="bench", defaults={"name": "Bench Clinic"})
    now = timezone.now()
    draft = {f"phq9_q{n}": value for n, value in enumerate(answers, start=1)}
    prepared = []
    for n in range(count):
        patient = Patient.objects.create(
            clinic=clinic,
            mrn=f"{prefix}{n:05d}",
            given_name="Bench",
            family_name=f"Patient{n}",
            date_of_birth=date(1980, 1, 1),
            email=f"{prefix.lower()}{n}@patients.example",
        )
        assignment = QuestionnaireAssignment.objects.create(
            clinic=clinic,
            patient=patient,
            instrument_id="phq9",
            trigger=AssignmentTrigger.MANUAL,
            slot="bench",
            opens_at=now - timedelta(minutes=10),
            due_by=now + timedelta(days=3),
            draft_answers=draft,
        )
        issued = portal_link_issue(
            actor=None,
            patient=patient,
            purpose=PortalLinkPurpose.QUESTIONNAIRES,
            assignments=[assignment],
            channel="email",
            expires_at=now + timedelta(days=3),
            now=now,
        )
        prepared.append((issued.token, assignment.pk))
    return prepared


def _time(prepared: list[tuple[str, int]], address_block: str) -> list[float]:
    from django.test import Client

    from ketacare.outcomes.models import AssignmentStatus, QuestionnaireAssignment

    client = Client()
    timings = []
    for n, (token, assignment_pk) in enumerate(prepared):
        url = f"/portal/{token}/q/{assignment_pk}/review/"
        address = f"{address_block}.{n % 250}"
        start = time.perf_counter()
        response = client.post(url, REMOTE_ADDR=address)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    done = QuestionnaireAssignment.objects.filter(
        pk__in=[pk for _, pk in prepared], status=AssignmentStatus.COMPLETED
    ).count()
    assert done == len(prepared), done
    return timings


def _summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1],
    }


def _child() -> None:
    """Build the data and time the submissions (runs with the database already chosen)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from ketacare.outcomes.models import SafetyAlert

    call_command("migrate", verbosity=0)
    _time(_prepare(WARMUP, PLAIN, "W"), "192.0.2")
    counted = _prepare(1, PLAIN, "Q")
    connection.force_debug_cursor = True
    _time(counted, "192.0.2")
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    plain = _time(_prepare(SUBMISSIONS, PLAIN, "P"), "198.51.100")
    alerting = _time(_prepare(SUBMISSIONS, WITH_ALERT, "A"), "203.0.113")
    assert SafetyAlert.objects.count() == SUBMISSIONS
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "plain": _summary(plain),
                "alert": _summary(alerting),
                "queries": queries,
            }
        )
    )


def main() -> None:
    """Print the median time to score and store one portal submission, per database."""
    results = run_everywhere("bench.questionnaire_submit")
    print(f"Questionnaire submission (PHQ-9, portal POST end to end), median of {SUBMISSIONS}:")
    for result in results:
        for series, label in (("plain", "no alert"), ("alert", "opens an alert")):
            figures = result[series]
            print(
                f"  {result['vendor']:<11} {label:<15} median {figures['median_ms']:6.1f} ms   "
                f"p95 {figures['p95_ms']:6.1f} ms"
            )
        print(f"  {result['vendor']:<11} {result['queries']} queries per submission (no alert)")
    if not os.environ.get("DATABASE_URL"):
        print("  (set DATABASE_URL to measure PostgreSQL too)")


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        main()
