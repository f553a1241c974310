"""Bulk Data export throughput and memory on a clinic of 100,000+ FHIR resources.

`python -m bench.fhir_bulk_export` builds, on a throwaway SQLite database (and PostgreSQL when
DATABASE_URL is set), one clinic whose records make 102,000 resources: 2,000 patients, each
with 20 scored PHQ-9/GAD-7 responses (an Observation and a QuestionnaireResponse each) and 10
weights. It then runs the export the worker runs (`ketacare.fhir.bulk.export_run`, every type)
in a fresh process and reports resources per second and that process's memory: its peak (max
RSS, which includes starting Django) and, sampled every 20 ms while the export runs, the most
its resident memory rose above what it was when the export started (the export's own use), at a
quarter of the size and at full size, so memory that grows with the clinic would show.
Sizes are bounded: the machine is shared.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

from bench._harness import run_everywhere

PATIENTS = 2000
RESPONSES_PER_PATIENT = 20
WEIGHTS_PER_PATIENT = 10


def _populate(patients: int) -> int:
    """A clinic of `patients` patients with their responses and weights; returns resources."""
    from decimal import Decimal

    from django.utils import timezone

    from ketacare.accounts.models import Clinic, Membership, User
    from ketacare.clinical.instruments import score
    from ketacare.outcomes.models import ScaleResponse
    from ketacare.patients.models import BodyMeasurement, Patient

    clinic = Clinic.objects.create(slug=f"bench-{patients}", name="Bench Clinic")
    user = User.objects.create(username=f"bench.admin.{patients}")
    Membership.objects.create(user=user, clinic=clinic, role="admin")
    now = timezone.now()
    rows = [
        Patient(
            clinic=clinic,
            mrn=f"B{n:06d}",
            given_name="Bench",
            family_name=f"Patient{n}",
            date_of_birth=date(1980, 1, 1),
        )
        for n in range(patients)
    ]
    Patient.objects.bulk_create(rows, batch_size=1000)
    ids = list(Patient.objects.filter(clinic=clinic).values_list("pk", flat=True))
    phq = score("phq9", [1, 2, 1, 1, 0, 1, 2, 1, 0])
    gad = score("gad7", [1, 1, 1, 1, 1, 1, 1])
    responses, weights = [], []
    for pk in ids:
        for n in range(RESPONSES_PER_PATIENT):
            result = phq if n % 2 == 0 else gad
            responses.append(
                ScaleResponse(
                    clinic=clinic,
                    patient_id=pk,
                    instrument_id=result.instrument_id,
                    answers=list(result.item_scores),
                    total=result.total,
                    band=result.band,
                    alerts=[],
                    source="staff",
                    recorded_at=now - timedelta(days=n),
                )
            )
        for n in range(WEIGHTS_PER_PATIENT):
            weights.append(
                BodyMeasurement(
                    clinic=clinic,
                    patient_id=pk,
                    measured_on=now.date() - timedelta(days=7 * n),
                    weight_kg=Decimal("70.0") + n,
                    recorded_by=user,
                )
            )
        if len(responses) > 20000:
            ScaleResponse.objects.bulk_create(responses, batch_size=2000)
            BodyMeasurement.objects.bulk_create(weights, batch_size=2000)
            responses, weights = [], []
    ScaleResponse.objects.bulk_create(responses, batch_size=2000)
    BodyMeasurement.objects.bulk_create(weights, batch_size=2000)
    return clinic.pk


def _export_in_fresh_process(clinic_id: int) -> dict[str, float]:
    output = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.fhir_bulk_export", "--export", str(clinic_id)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        raise SystemExit(output.stderr[-3000:])
    result: dict[str, float] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def _rss_kb() -> int:
    """The process's resident memory now, in KiB (Linux), or 0 where it cannot be read."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0


class _RssSampler(threading.Thread):
    """The highest resident memory seen while it runs, sampled every 20 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.highest = _rss_kb()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.highest = max(self.highest, _rss_kb())


def _export(clinic_id: int) -> None:
    """Grandchild: run one system-level export of the clinic as the worker would."""
    import django

    django.setup()
    from django.utils import timezone

    from ketacare.accounts.models import Clinic, Membership
    from ketacare.fhir.bulk import export_run, system_types
    from ketacare.fhir.models import ExportJob

    clinic = Clinic.objects.get(pk=clinic_id)
    user = Membership.objects.filter(clinic=clinic).first().user  # type: ignore[union-attr]
    now = timezone.now()
    job = ExportJob.objects.create(
        clinic=clinic,
        requested_by=user,
        level="system",
        types=system_types(),
        request_url="bench",
        transaction_time=now,
        created_at=now,
    )
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    at_start = _rss_kb()
    sampler = _RssSampler()
    sampler.start()
    started = time.perf_counter()
    done = export_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    total = sum(done.counts.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "resources": total,
                "seconds": round(seconds, 1),
                "per_second": round(total / seconds),
                "baseline_mb": round(baseline / 1024),
                "peak_mb": round(peak / 1024),
                "rss_at_start_mb": round(at_start / 1024),
                "export_rise_mb": round(max(sampler.highest - at_start, 0) / 1024, 1),
            }
        )
    )


def _child() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    results = {"database": connection.vendor}
    for patients in (PATIENTS // 4, PATIENTS):
        started = time.perf_counter()
        clinic_id = _populate(patients)
        results[f"populate_{patients}_s"] = round(time.perf_counter() - started, 1)
        results[f"export_{patients}"] = _export_in_fresh_process(clinic_id)  # type: ignore[assignment]
    print(json.dumps(results))


def main() -> None:
    """Print the throughput and peak memory at both sizes, on each database."""
    for result in run_everywhere("bench.fhir_bulk_export"):
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    elif "--export" in sys.argv:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.config.settings")
        _export(int(sys.argv[sys.argv.index("--export") + 1]))
    else:
        main()
