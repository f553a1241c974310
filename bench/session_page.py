"""The chair-side session page with 100 monitoring entries: median response time.

`python -m bench.session_page` measures on SQLite (a throwaway data directory) and, when
DATABASE_URL is set, on PostgreSQL (a throwaway database on that server, dropped afterwards).
Each measurement runs in its own process, because Django reads its database at start-up.

The session is made through the real services: checked in, pre-dose checks, dose ordered and
verified, infusion running, then 100 readings (a few out of limits). The page is fetched through
Django's test client as the nurse, with DEBUG off, after warming up.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench._harness import run_everywhere

ENTRIES = 100
WARMUP = 5
REQUESTS = 60


def _child() -> None:
    """Build the data and time the page (runs with the database already chosen)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    session, nurse = _session_with_entries()
    client = Client()
    client.force_login(nurse)
    url = f"/sessions/{session.pk}/"
    for _ in range(WARMUP):
        assert client.get(url).status_code == 200
    timings = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    reset_queries()
    connection.force_debug_cursor = True
    client.get(url)
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    # The pre-dose reading and 99 more: 100 rows on the timeline.
    assert response.content.count(b'data-testid="reading"') == ENTRIES
    timings.sort()
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "median_ms": statistics.median(timings),
                "p95_ms": timings[int(len(timings) * 0.95) - 1],
                "queries": queries,
                "at": timezone.now().isoformat(),
            }
        )
    )


def _session_with_entries() -> tuple[Any, Any]:
    import hashlib

    from django.utils import timezone

    from ketacare.accounts.access import Actor
    from ketacare.accounts.models import Clinic, Membership, User
    from ketacare.accounts.roles import Role
    from ketacare.consent.models import ConsentDocument, ConsentDocumentVersion, ConsentSignature
    from ketacare.kernel import clock
    from ketacare.patients.models import Patient
    from ketacare.scheduling.models import Appointment, Course
    from ketacare.screening.models import Screening
    from ketacare.treatment import services

    clinic = Clinic.objects.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench Clinic")

    def staff(role: Role) -> Actor:
        user = User.objects.create(username=f"bench.{role.value}.{clinic.slug}")
        Membership.objects.create(user=user, clinic=clinic, role=role)
        return Actor(user=user, clinic=clinic, role=role, client_address="127.0.0.1")

    nurse, prescriber, admin = staff(Role.NURSE), staff(Role.PRESCRIBER), staff(Role.ADMIN)
    patient = Patient.objects.create(
        clinic=clinic,
        mrn="B00001",
        given_name="Bench",
        family_name="Patient",
        date_of_birth="1980-01-01",
        sex="female",
    )
    now = timezone.now()
    screening = Screening.objects.create(
        clinic=clinic,
        patient=patient,
        protocol_id="iv_induction_6x",
        protocol_version="2025.1",
        route="iv",
        status="eligible",
        run_by=prescriber.user,
        run_at=now,
        signed_by=prescriber.user,
        signed_at=now,
    )
    document = ConsentDocument.objects.create(clinic=clinic, route="iv", title="IV consent")
    body = "Consent text."
    version = ConsentDocumentVersion.objects.create(
        clinic=clinic,
        document=document,
        number=1,
        body=body,
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        published_at=now,
        published_by=prescriber.user,
    )
    consent = ConsentSignature.objects.create(
        clinic=clinic,
        patient=patient,
        document_version=version,
        signed_name="Bench Patient",
        signed_at=now,
        body_sha256=version.body_sha256,
        witnessed_by=nurse.user,
        recorded_by=nurse.user,
    )
    course = Course.objects.create(
        clinic=clinic,
        patient=patient,
        protocol_id="iv_induction_6x",
        protocol_version="2025.1",
        route="iv",
        screening=screening,
        consent=consent,
        planned_sessions=6,
        started_on=now.date(),
        created_by=prescriber.user,
    )
    start = now - timedelta(minutes=ENTRIES + 30)
    appointment = Appointment.objects.create(
        clinic=clinic,
        patient=patient,
        course=course,
        starts_at=start,
        ends_at=start + timedelta(minutes=70),
        created_by=nurse.user,
    )

    def key() -> str:
        return uuid.uuid4().hex

    with clock.frozen_at(start):
        session = services.session_check_in(
            actor=nurse, idempotency_key=key(), appointment_id=appointment.pk
        )
    with clock.frozen_at(start + timedelta(minutes=3)):
        services.predose_check_record(
            actor=nurse,
            session_id=session.pk,
            version=session.version,
            idempotency_key=key(),
            weight_kg=Decimal("72.0"),
            height_cm=Decimal("170.0"),
            systolic=124,
            diastolic=80,
            heart_rate=72,
            spo2=98,
            respiratory_rate=14,
            fasting_confirmed=True,
            escort_confirmed=True,
            pregnancy_test="negative",
            medication_changes=False,
            phq9_answers=[2, 2, 1, 2, 1, 1, 1, 0, 0],
            cssrs_answers=[False] * 6,
        )
    session.refresh_from_db()
    with clock.frozen_at(start + timedelta(minutes=6)):
        services.dose_order_create(
            actor=dataclasses.replace(prescriber, reauthenticated_at=clock.wall_now()),
            session_id=session.pk,
            version=session.version,
            idempotency_key=key(),
            inputs={
                "mg_per_kg": Decimal("0.5"),
                "concentration_mg_per_ml": Decimal("1"),
                "container_volume_ml": Decimal("100"),
            },
        )
    session.refresh_from_db()
    with clock.frozen_at(start + timedelta(minutes=8)):
        order = services.dose_order_verify(
            actor=dataclasses.replace(nurse, reauthenticated_at=clock.wall_now()),
            session_id=session.pk,
            version=session.version,
            idempotency_key=key(),
        )
    session.refresh_from_db()
    # a dose is given only from a container in stock: the clinic's stock as the demo sets it up
    from ketacare.ledger import demo as ledger_demo

    people = {Role.NURSE: nurse.user, Role.PRESCRIBER: prescriber.user, Role.ADMIN: admin.user}
    ledger_demo.load(clinic=clinic, staff=people, rng=random.Random(1))
    with clock.frozen_at(start + timedelta(minutes=9)):
        lot = ledger_demo.draw_for_dose(nurse, session.pk, order, start + timedelta(minutes=9))
    with clock.frozen_at(start + timedelta(minutes=10)):
        services.administration_start(
            actor=nurse,
            session_id=session.pk,
            version=session.version,
            idempotency_key=key(),
            product="Ketamine HCl, 1 mg/mL in saline",
            lot=lot,
            concentration_mg_per_ml=order.concentration_mg_per_ml,
            volume_ml=order.volume_ml,
            rate_ml_per_h=order.rate_ml_per_h,
        )
    for minute in range(1, ENTRIES):
        high = minute % 25 == 0
        with clock.frozen_at(start + timedelta(minutes=10 + minute)):
            services.monitoring_entry_record(
                actor=nurse,
                session_id=session.pk,
                idempotency_key=key(),
                systolic=186 if high else 120 + minute % 15,
                diastolic=96 if high else 80,
                heart_rate=70 + minute % 10,
                spo2=97,
                moaas=4,
                dissociation="mild",
            )
    clock.reset()
    return session, nurse.user


def main() -> None:
    """Print the median time to render the session page with 100 readings, per database."""
    results = run_everywhere("bench.session_page")
    print(f"Session page with {ENTRIES} monitoring entries, median of {REQUESTS} GETs:")
    for result in results:
        print(
            f"  {result['vendor']:<11} median {result['median_ms']:6.1f} ms   "
            f"p95 {result['p95_ms']:6.1f} ms   {result['queries']} queries"
        )
    if not os.environ.get("DATABASE_URL"):
        print("  (set DATABASE_URL to measure PostgreSQL too)")


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        main()
