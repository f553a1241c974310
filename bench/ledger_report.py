"""The controlled-substance ledger at 100,000 entries: a balance and the dispensing report.

`python -m bench.ledger_report` measures on SQLite (a throwaway data directory) and, when
DATABASE_URL is set, on PostgreSQL (a throwaway database, dropped afterwards).

The ledger is set up through the real services (registration, products, a receipt, a draw,
an administration and a witnessed waste), then grown to 100,000 entries over a year of
doses (draw, administration, waste for each) appended in batches with the same keyed chain
(`chain_body` and `link_digest`), so `ketacare ledger verify` still passes on the result.
Timed: a container's balance from its latest entry, the stock page, the balance of a product
recomputed from every entry, and the 1304.22(c) dispensing report (30 days and a whole
year, on screen and as CSV) fetched as the prescriber with DEBUG off.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench._harness import run_everywhere

ENTRIES = 100_000
BATCH = 2_000
REPEAT = 7


def _median_ms(call: Any, repeat: int = REPEAT) -> float:
    call()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(timings), 1)


def _grow(stock: Any, nurse: Any, prescriber: Any, patients: list[Any]) -> int:
    """Append synthetic doses (draw, administration, waste) until the ledger has ENTRIES."""
    from django.db import transaction
    from django.utils import timezone

    from ketacare.audit.chain import link_digest
    from ketacare.audit.models import ChainHead
    from ketacare.ledger.models import Container, EntryKind, LedgerEntry, StockBalance

    clinic = stock.clinic
    key = f"clinic:{clinic.pk}"
    start = timezone.now() - timedelta(days=365)
    containers = list(Container.objects.filter(clinic=clinic, product=stock.vial))
    balances = {c.pk: c.balance for c in containers}
    stock_balance = StockBalance.objects.get(product=stock.vial).balance
    made = LedgerEntry.objects.count()
    dose = 0
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().get(kind="ledger", key=key)
        seq, prev = head.last_seq, head.last_hash
        while made < ENTRIES:
            rows = []
            while len(rows) < BATCH and made + len(rows) < ENTRIES:
                container = containers[dose % len(containers)]
                if balances[container.pk] < 50:
                    balances[container.pk] = Decimal("500")  # a fresh vial's worth, for the bench
                    stock_balance += Decimal("500")
                at = start + timedelta(minutes=15 * dose)
                patient = patients[dose % len(patients)]
                balances[container.pk] -= 50
                stock_balance -= 50
                for kind, amount, change, dose_mg, witness in (
                    (EntryKind.DRAW, Decimal("50"), Decimal("-50"), None, None),
                    (EntryKind.ADMINISTRATION, Decimal("35"), Decimal(0), Decimal("35"), None),
                    (EntryKind.WASTE, Decimal("15"), Decimal(0), None, prescriber),
                ):
                    seq += 1
                    entry = LedgerEntry(
                        chain_key=key, seq=seq, clinic_id=clinic.pk, kind=kind, at=at,
                        occurred_at=at, registration_id=stock.registration.pk,
                        product_id=stock.vial.pk, lot_id=container.lot_id,
                        container_id=container.pk, unit="mg", amount=amount, change=change,
                        container_balance=balances[container.pk], stock_balance=stock_balance,
                        session_id=1_000_000 + dose, patient_id=patient.pk, dose_mg=dose_mg,
                        actor_id=nurse.pk, witness_id=witness.pk if witness else None,
                        reason="", detail={},
                    )  # fmt: skip
                    entry.prev_hash = prev
                    entry.entry_hash = link_digest(prev_hash=prev, body=entry.chain_body())
                    prev = entry.entry_hash
                    rows.append(entry)
                dose += 1
            LedgerEntry.objects.bulk_create(rows)
            made += len(rows)
        ChainHead.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=prev)
    return made


def _child() -> None:
    """Build the data and time the reads (runs with the database already chosen)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db.models import Sum
    from django.test import Client
    from django.utils import timezone
    from tests.factories import PatientFactory, member
    from tests.ledger.factories import as_actor, stock_for

    from ketacare.accounts.models import Clinic
    from ketacare.accounts.roles import Role
    from ketacare.ledger import reports, selectors
    from ketacare.ledger.models import LedgerEntry
    from ketacare.ledger.services.counts import CountedLine  # noqa: F401 - the services load

    call_command("migrate", verbosity=0)
    clinic = Clinic.objects.create(slug="bench", name="Bench Clinic")
    staff = {r.value: member(clinic, r, f"bench.{r.value}") for r in Role}
    patients = [PatientFactory(clinic=clinic) for _ in range(200)]
    stock = stock_for(clinic, staff)
    stock.receive(count=40, prefix="BV")
    built = time.perf_counter()
    total = _grow(stock, staff["nurse"], staff["prescriber"], patients)
    build_s = round(time.perf_counter() - built, 1)
    container = stock.vial.containers.order_by("pk").first()
    prescriber = as_actor(staff["prescriber"], clinic, "prescriber")
    today = timezone.localdate()
    client = Client()
    client.force_login(staff["prescriber"])
    month = f"?since={(today - timedelta(days=30)).isoformat()}&until={today.isoformat()}"
    year = f"?since={(today - timedelta(days=366)).isoformat()}&until={today.isoformat()}"
    rows_month = len(
        reports.dispensing_record(
            actor=prescriber, since=today - timedelta(days=30), until=today
        ).rows
    )
    verify_start = time.perf_counter()
    verified = selectors.ledger_verify()
    verify_s = round(time.perf_counter() - verify_start, 1)
    result = {
        "database": django.db.connection.vendor,
        "entries": total,
        "build_seconds": build_s,
        "container_balance_ms": _median_ms(lambda: selectors.balance_of(container_id=container.pk)),
        "product_balance_from_all_entries_ms": _median_ms(
            lambda: LedgerEntry.objects.filter(product=stock.vial).aggregate(Sum("change"))
        ),
        "stock_page_ms": _median_ms(lambda: client.get("/ledger/")),
        "container_page_ms": _median_ms(lambda: client.get(f"/ledger/containers/{container.pk}/")),
        "dispensing_month_rows": rows_month,
        "dispensing_month_page_ms": _median_ms(
            lambda: client.get("/ledger/reports/dispensing/" + month)
        ),
        "dispensing_month_csv_ms": _median_ms(
            lambda: client.get("/ledger/reports/dispensing/" + month + "&format=csv")
        ),
        "dispensing_year_csv_ms": _median_ms(
            lambda: client.get("/ledger/reports/dispensing/" + year + "&format=csv"), repeat=3
        ),
        "verify_seconds": verify_s,
        "verify_ok": verified.ok,
    }
    print(json.dumps(result))


def main() -> None:
    """Measure on SQLite, and on PostgreSQL when DATABASE_URL is set."""
    for result in run_everywhere("bench.ledger_report"):
        print(json.dumps(result))


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        main()
