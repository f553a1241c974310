"""Building the network: clinic by clinic, patients in batches, then the audit trail."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock_time

from django.contrib.auth.hashers import make_password
from django.db import transaction

from ketacare.accounts.models import Clinic
from ketacare.audit.models import AuditEntry
from ketacare.followup.summaries import outcome_summaries_catch_up_all
from ketacare.synth.audit_trail import AuditStream
from ketacare.synth.bulk import analyze, reset_sequences
from ketacare.synth.bulk import tune_for_bulk as _tune
from ketacare.synth.network.clinics import clinic_setup
from ketacare.synth.network.patients import patient_history
from ketacare.synth.network.rows import Phq9Scores, Writers
from ketacare.synth.network.spec import (
    PATIENTS_PER_BATCH,
    SYNTH_PASSWORD,
    NetworkReport,
    NetworkSpec,
)


def build_network(spec: NetworkSpec, progress: Callable[[str], None] = print) -> NetworkReport:
    """Generate the network described by `spec` into the configured database."""
    started = time.perf_counter()
    if Clinic.objects.filter(slug__startswith=f"{spec.slug_prefix}-").exists():
        raise ValueError(f"clinics named {spec.slug_prefix}-* exist already; use a fresh database")
    _tune()
    rng = random.Random(spec.seed)  # noqa: S311 - synthetic data, not security
    now = datetime.combine(spec.today, clock_time(12, 0), tzinfo=UTC)
    sizes = [spec.patients // spec.clinics] * spec.clinics
    sizes[0] += spec.patients - sum(sizes)
    writers = Writers()
    scores = Phq9Scores()
    password = make_password(SYNTH_PASSWORD)
    report = NetworkReport(clinics=[], rows={}, seconds=0.0)
    audit_rows = 0
    for index, size in enumerate(sizes):
        with transaction.atomic():
            ctx = clinic_setup(spec, index, size, password)
        report.clinics.append((ctx.clinic.slug, size))
        for first in range(0, size, PATIENTS_PER_BATCH):
            with transaction.atomic():
                for n in range(first, min(size, first + PATIENTS_PER_BATCH)):
                    patient_history(ctx, writers, scores, rng, n, spec, now)
                writers.flush()
        with transaction.atomic():
            audit_rows += AuditStream(ctx.clinic, ctx.staff, rng).write(
                ctx.arrivals, size * spec.audit_per_patient, now
            )
        progress(
            f"  clinic {ctx.clinic.slug}: {size} patients ({time.perf_counter() - started:.0f} s)"
        )
    reset_sequences([*(w.model for w in writers.all()), AuditEntry])
    progress(f"  outcome summaries ({time.perf_counter() - started:.0f} s)")
    outcome_summaries_catch_up_all(overlap=False)
    analyze()
    report.rows = {w.table: w.written for w in writers.all()}
    report.rows["audit_auditentry"] = audit_rows
    report.seconds = time.perf_counter() - started
    return report
