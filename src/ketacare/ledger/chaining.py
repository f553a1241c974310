"""The seam between ledger entries and the shared keyed chain that links them.

Each clinic's entries form one chain (`ledger/clinic:<id>`), appended through the shared
mechanism (`ketacare.audit.chained`: HMAC-SHA-256 under a key outside the database, signed
checkpoints of every head written outside it). `ketacare audit verify` checks the ledger with
every other chain; `ketacare ledger verify` reports the ledger's chains alone.
"""

from dataclasses import dataclass
from typing import Any

from ketacare.audit.chained import ChainProblem, chain_append, chains_verify
from ketacare.ledger.models import LedgerEntry


def chain_key_for(clinic_id: int) -> str:
    """One chain per clinic, so clinics never contend for one lock."""
    return f"clinic:{clinic_id}"


def link(values: dict[str, Any]) -> LedgerEntry:
    """Append one entry (its field values) to its clinic's chain, under the chain's lock."""
    return chain_append(LedgerEntry, chain_key=chain_key_for(values["clinic_id"]), values=values)


@dataclass(frozen=True)
class LedgerVerifyResult:
    """What the ledger's verification checked and the first problem of each broken chain."""

    chains: int
    entries: int
    problems: list[ChainProblem]
    checkpoint_lines: int

    @property
    def ok(self) -> bool:
        """No ledger chain was broken."""
        return not self.problems


def verify() -> LedgerVerifyResult:
    """Recompute every chain against the signed checkpoints; keep what concerns the ledger."""
    report = chains_verify()
    prefix = f"{LedgerEntry.CHAIN_KIND}/"
    problems = [
        p for p in report.problems if p.chain_key.startswith(prefix) or p.chain_key == "checkpoints"
    ]
    keys = LedgerEntry.objects.values_list("chain_key", flat=True).distinct()
    return LedgerVerifyResult(
        chains=len(set(keys)),
        entries=LedgerEntry.objects.count(),
        problems=problems,
        checkpoint_lines=report.checkpoint_lines,
    )
