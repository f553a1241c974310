"""The seam between ledger entries and the tamper-evident chain that links them.

Each clinic's entries form one chain: an entry's hash covers its fields and the previous
entry's hash, and the head row holds the last sequence number and hash. `link` appends,
`verify_clinic` recomputes. Only this module knows how entries are sealed, so the ledger
moves to the shared keyed mechanism by changing this file alone.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

from ketacare.ledger.models import LedgerChain, LedgerEntry

GENESIS_HASH = "0" * 64
_QUANTUM = Decimal("0.001")
# The fields an entry's hash covers: everything but its id and its own hash.
SEALED_FIELDS = (
    "clinic_id", "seq", "kind", "at", "occurred_at", "registration_id", "product_id", "lot_id",
    "container_id", "unit", "amount", "change", "container_balance", "stock_balance", "draw_id",
    "session_id", "patient_id", "dose_mg", "actor_id", "witness_id", "second_witness_id",
    "reason", "detail", "corrects_id", "receipt_id",
)  # fmt: skip


def _canonical(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        # Microsecond ISO form in UTC: the same on SQLite and PostgreSQL after a round trip.
        if hasattr(value, "hour"):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        return str(value)
    if value is None or isinstance(value, (int, str, bool, dict, list)):
        return value
    return format(value, "f") if hasattr(value, "quantize") else str(value)


def digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the sealed fields."""
    body = {name: _canonical(fields[name]) for name in SEALED_FIELDS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _fields_of(entry: LedgerEntry) -> dict[str, Any]:
    fields = {name: getattr(entry, name) for name in SEALED_FIELDS}
    for name in ("amount", "change", "container_balance", "stock_balance", "dose_mg"):
        if fields[name] is not None:
            fields[name] = fields[name].quantize(_QUANTUM)
    return fields


def link(entry: LedgerEntry) -> LedgerEntry:
    """Give an unsaved entry its sequence number and hashes under the locked chain head; save it."""
    head = LedgerChain.objects.select_for_update().filter(clinic_id=entry.clinic_id).first()
    if head is None:
        LedgerChain.objects.get_or_create(clinic_id=entry.clinic_id)
        head = LedgerChain.objects.select_for_update().get(clinic_id=entry.clinic_id)
    entry.seq = head.last_seq + 1
    entry.prev_hash = head.last_hash
    entry.entry_hash = digest(head.last_hash, _fields_of(entry))
    entry.save()
    head.last_seq = entry.seq
    head.last_hash = entry.entry_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass(frozen=True)
class ChainProblem:
    """The first place a clinic's ledger chain stops adding up."""

    clinic_id: int
    seq: int
    entry_id: int | None
    reason: str

    def describe(self) -> str:
        """One line for people."""
        where = f"entry id {self.entry_id}" if self.entry_id is not None else "no entry"
        return f"clinic {self.clinic_id}, seq {self.seq} ({where}): {self.reason}"


def _entries(clinic_id: int) -> Iterator[LedgerEntry]:
    return LedgerEntry.objects.filter(clinic_id=clinic_id).order_by("seq").iterator(2000)


def verify_clinic(clinic_id: int) -> tuple[int, ChainProblem | None]:
    """Recompute one clinic's chain from its first entry: the count and the first problem."""
    head = LedgerChain.objects.filter(clinic_id=clinic_id).first()
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    for entry in _entries(clinic_id):
        count += 1
        if entry.seq != expected_seq:
            return count, ChainProblem(
                clinic_id, expected_seq, None, f"entry missing (next present is seq {entry.seq})"
            )
        if entry.prev_hash != expected_prev:
            return count, ChainProblem(
                clinic_id, entry.seq, entry.pk, "link to the previous entry is broken"
            )
        if digest(entry.prev_hash, _fields_of(entry)) != entry.entry_hash:
            return count, ChainProblem(clinic_id, entry.seq, entry.pk, "contents were altered")
        expected_prev = entry.entry_hash
        expected_seq += 1
    last_seq = head.last_seq if head else 0
    last_hash = head.last_hash if head else GENESIS_HASH
    if expected_seq - 1 != last_seq or expected_prev != last_hash:
        return count, ChainProblem(
            clinic_id, expected_seq, None, f"entries after seq {expected_seq - 1} were removed"
        )
    return count, None
