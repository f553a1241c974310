"""The ledger's reports (21 CFR 1304.22(c), inventories): for screen, CSV and print."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.clinical.ledger import format_amount
from ketacare.kernel import clinic_time
from ketacare.ledger.models import CountLine, Discrepancy, EntryKind, LedgerEntry
from ketacare.ledger.selectors import period_bounds
from ketacare.patients.models import ChartSection, ChartSectionKey

DISPOSAL_KINDS = (EntryKind.DESTRUCTION, EntryKind.REVERSE_DISTRIBUTOR, EntryKind.THEFT_LOSS)


@dataclass(frozen=True)
class Report:
    """A report's title, its column headings and rows of text."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[str]]


def _local(moment: object, zone: object) -> str:
    return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]


def _addresses(patient_ids: set[int]) -> dict[int, str]:
    sections = ChartSection.objects.filter(
        patient_id__in=patient_ids, section=ChartSectionKey.CONTACT
    ).values_list("patient_id", "data")
    return {pid: str((data or {}).get("address") or "not recorded") for pid, data in sections}


def _entries(
    actor: Actor, kinds: tuple[str, ...], since: date, until: date, product_id: int | None
) -> QuerySet[LedgerEntry]:
    start, end = period_bounds(actor.clinic, since, until)
    rows = LedgerEntry.objects.filter(
        clinic_id=actor.clinic_id, kind__in=kinds, occurred_at__gte=start, occurred_at__lt=end
    )
    if product_id:
        rows = rows.filter(product_id=product_id)
    return rows.select_related(
        "product",
        "lot",
        "container",
        "actor",
        "witness",
        "second_witness",
        "patient",
        "receipt",
        "registration",
    ).order_by("occurred_at", "seq")


def dispensing_record(
    *, actor: Actor, since: date, until: date, product_id: int | None = None
) -> Report:
    """Each administration, waste and home dispensing: substance, form, strength, quantity,
    patient, date, who."""

    zone = clinic_time.clinic_zone(actor.clinic)
    entries = list(
        _entries(
            actor,
            (EntryKind.ADMINISTRATION, EntryKind.WASTE, EntryKind.DISPENSING),
            since,
            until,
            product_id,
        )
    )
    addresses = _addresses({e.patient_id for e in entries if e.patient_id})
    rows = []
    for e in entries:
        patient = e.patient
        rows.append(
            (
                _local(e.occurred_at, zone),
                e.get_kind_display(),
                e.product.substance,
                f"{e.product.form}, {e.product.strength}",
                f"NDC {e.product.ndc}, lot {e.lot.number}, {e.container.label}",
                f"{format_amount(e.amount)} {e.unit}",
                format_amount(e.dose_mg) + " mg" if e.dose_mg is not None else "",
                patient.display_name if patient else "",
                addresses.get(patient.pk, "not recorded") if patient else "",
                e.actor.display_name(),
                e.witness.display_name() if e.witness else "",
                str(e.session_id or ""),
                str(e.seq),
            )
        )
    return Report(
        "dispensing",
        "Dispensing and administration record (21 CFR 1304.22(c))",
        ("Date", "What", "Substance", "Form and strength", "Product, lot, container", "Quantity",
         "Dose", "Patient", "Patient address", "Administered by", "Witness", "Session", "Entry"),
        rows,
    )  # fmt: skip


def receipts(*, actor: Actor, since: date, until: date, product_id: int | None = None) -> Report:
    """Every container received: date, supplier with address and DEA number, invoice, product."""
    entries = _entries(actor, (EntryKind.RECEIPT,), since, until, product_id)
    rows = [
        (
            e.receipt.received_on.isoformat() if e.receipt else "",
            e.receipt.supplier_name if e.receipt else "",
            e.receipt.supplier_address if e.receipt else "",
            e.receipt.supplier_dea if e.receipt else "",
            e.receipt.invoice if e.receipt else "",
            f"{e.product.name} {e.product.strength} (NDC {e.product.ndc})",
            f"lot {e.lot.number}, exp. {e.lot.expires_on:%Y-%m-%d}",
            e.container.label,
            f"{format_amount(e.amount)} {e.unit}",
            e.registration.dea_number,
            e.actor.display_name(),
        )
        for e in entries
    ]
    return Report(
        "receipts",
        "Receipts",
        ("Received", "Supplier", "Supplier address", "Supplier DEA", "Invoice", "Product", "Lot",
         "Container", "Quantity", "Registration", "Received by"),
        rows,
    )  # fmt: skip


def inventories(*, actor: Actor, since: date, until: date, product_id: int | None = None) -> Report:
    """Every counted container of every count in the period, with variances."""
    start, end = period_bounds(actor.clinic, since, until)
    lines = CountLine.objects.filter(
        clinic_id=actor.clinic_id, count__taken_at__gte=start, count__taken_at__lt=end
    ).select_related(
        "count", "count__counted_by", "count__second_counter", "container__product",
        "container__lot",
    )  # fmt: skip
    if product_id:
        lines = lines.filter(container__product_id=product_id)

    zone = clinic_time.clinic_zone(actor.clinic)
    rows = [
        (
            _local(line.count.taken_at, zone),
            line.count.get_kind_display(),
            line.count.get_timing_display() if line.count.timing else "",
            f"{line.container.product.name} {line.container.product.strength}",
            f"lot {line.container.lot.number}",
            line.container.label,
            format_amount(line.expected),
            format_amount(line.counted),
            "measured" if line.measured else "",
            format_amount(line.counted - line.expected),
            " and ".join(
                (line.count.counted_by.display_name(), line.count.second_counter.display_name())
            ),
        )
        for line in lines.order_by("count__taken_at", "container__label")
    ]
    return Report(
        "inventories",
        "Inventories and counts (21 CFR 1304.11)",
        ("Taken", "Kind", "Timing", "Product", "Lot", "Container", "Ledger", "Counted",
         "Opened container", "Variance", "Counted by"),
        rows,
    )  # fmt: skip


def disposals(*, actor: Actor, since: date, until: date, product_id: int | None = None) -> Report:
    """Destruction (DEA Form 41 data), reverse distribution, and theft or loss (Form 106 data)."""

    zone = clinic_time.clinic_zone(actor.clinic)
    rows = [
        (
            _local(e.occurred_at, zone),
            e.get_kind_display(),
            f"{e.product.name} {e.product.strength} (NDC {e.product.ndc})",
            f"lot {e.lot.number}, {e.container.label}",
            f"{format_amount(e.amount)} {e.unit}",
            e.reason,
            ", ".join(p.display_name() for p in (e.witness, e.second_witness) if p is not None),
            "; ".join(f"{k}: {v}" for k, v in sorted(e.detail.items())),
            e.actor.display_name(),
        )
        for e in _entries(actor, DISPOSAL_KINDS, since, until, product_id)
    ]
    return Report(
        "disposals",
        "Destruction and loss records (DEA Forms 41 and 106 data)",
        ("Date", "What", "Product", "Lot, container", "Quantity", "Method or circumstances",
         "Witnesses", "Detail", "Recorded by"),
        rows,
    )  # fmt: skip


def discrepancy_report(
    *, actor: Actor, since: date, until: date, product_id: int | None = None
) -> Report:
    """Every discrepancy opened in the period and how it was resolved."""

    zone = clinic_time.clinic_zone(actor.clinic)
    start, end = period_bounds(actor.clinic, since, until)
    found = Discrepancy.objects.filter(
        clinic_id=actor.clinic_id, opened_at__gte=start, opened_at__lt=end
    ).select_related("container__product", "opened_by", "resolved_by")
    if product_id:
        found = found.filter(container__product_id=product_id)
    rows = [
        (
            _local(d.opened_at, zone),
            d.get_kind_display(),
            d.container.label,
            d.description,
            d.opened_by.display_name(),
            _local(d.resolved_at, zone) if d.resolved_at else "open",
            d.resolution,
            d.resolved_by.display_name() if d.resolved_by else "",
        )
        for d in found.order_by("opened_at", "id")
    ]
    return Report(
        "discrepancies",
        "Discrepancies",
        ("Opened", "Kind", "Container", "What", "Opened by", "Resolved", "Resolution",
         "Resolved by"),
        rows,
    )  # fmt: skip


REPORTS: dict[str, Callable[..., Report]] = {
    "dispensing": dispensing_record,
    "receipts": receipts,
    "inventories": inventories,
    "disposals": disposals,
    "discrepancies": discrepancy_report,
}
