"""Append to the audit trail, and verify that nobody has altered it."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.audit.chain import GENESIS_HASH, entry_digest
from ketacare.audit.models import AuditAction, AuditChain, AuditEntry


def chain_key_for(clinic_id: int | None) -> str:
    """Each clinic has its own chain, so clinics never contend for one lock."""
    return f"clinic:{clinic_id}" if clinic_id is not None else "system"


@transaction.atomic
def audit_record(
    *,
    actor: Actor | None,
    action: AuditAction | str,
    object_type: str = "",
    object_id: object = "",
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
    clinic_id: int | None = None,
    username: str = "",
    client_address: str | None = None,
) -> AuditEntry:
    """Append one entry to the clinic's chain, in the caller's transaction if there is one.

    The chain head row is locked (`select_for_update`) so concurrent writers append
    one after another with consecutive sequence numbers.
    """
    if actor is not None:
        clinic_id = actor.clinic_id
        username = actor.user.username
        client_address = actor.client_address
    key = chain_key_for(clinic_id)
    head = AuditChain.objects.select_for_update().filter(key=key).first()
    if head is None:  # the clinic's first entry
        AuditChain.objects.get_or_create(key=key)
        head = AuditChain.objects.select_for_update().get(key=key)
    fields: dict[str, Any] = {
        "chain_key": key,
        "seq": head.last_seq + 1,
        "at": timezone.now(),
        "clinic_id": clinic_id,
        "actor_id": actor.user.pk if actor else None,
        "actor_username": username,
        "actor_role": str(actor.role) if actor else "",
        "channel": actor.channel if actor else "",
        "action": str(action),
        "object_type": object_type,
        "object_id": str(object_id),
        "patient_id": patient_id,
        "client_address": client_address or "",
        "detail": detail or {},
    }
    entry_hash = entry_digest(prev_hash=head.last_hash, **fields)
    entry = AuditEntry.objects.create(prev_hash=head.last_hash, entry_hash=entry_hash, **fields)
    head.last_seq = entry.seq
    head.last_hash = entry_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass(frozen=True)
class ChainProblem:
    """The first place a chain stops adding up."""

    chain_key: str
    seq: int
    entry_id: int | None
    reason: str

    def describe(self) -> str:
        where = f"entry id {self.entry_id}" if self.entry_id is not None else "no entry"
        return f"chain {self.chain_key}, seq {self.seq} ({where}): {self.reason}"


@dataclass(frozen=True)
class VerifyReport:
    """What `audit_verify` checked and the first problem in each broken chain."""

    chains: int
    entries: int
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _verify_chain(head: AuditChain) -> tuple[int, ChainProblem | None]:
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    entries = AuditEntry.objects.filter(chain_key=head.key).order_by("seq")
    for entry in entries.iterator(chunk_size=2000):
        count += 1
        if entry.seq != expected_seq:
            return count, ChainProblem(
                head.key, expected_seq, None, f"entry missing (next present is seq {entry.seq})"
            )
        if entry.prev_hash != expected_prev:
            return count, ChainProblem(
                head.key, entry.seq, entry.pk, "link to the previous entry is broken"
            )
        recomputed = entry_digest(
            prev_hash=entry.prev_hash,
            chain_key=entry.chain_key,
            seq=entry.seq,
            at=entry.at,
            clinic_id=entry.clinic_id,
            actor_id=entry.actor_id,
            actor_username=entry.actor_username,
            actor_role=entry.actor_role,
            channel=entry.channel,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            patient_id=entry.patient_id,
            client_address=entry.client_address,
            detail=entry.detail,
        )
        if recomputed != entry.entry_hash:
            return count, ChainProblem(head.key, entry.seq, entry.pk, "contents were altered")
        expected_prev = entry.entry_hash
        expected_seq += 1
    if expected_seq - 1 != head.last_seq or expected_prev != head.last_hash:
        return count, ChainProblem(
            head.key, expected_seq, None, f"entries after seq {expected_seq - 1} were removed"
        )
    return count, None


def audit_verify() -> VerifyReport:
    """Recompute every chain from its first entry; report the first bad entry of each."""
    problems: list[ChainProblem] = []
    total = 0
    heads = list(AuditChain.objects.order_by("key"))
    known = {h.key for h in heads}
    orphan_keys = set(AuditEntry.objects.values_list("chain_key", flat=True).distinct()) - known
    for head in heads:
        count, problem = _verify_chain(head)
        total += count
        if problem:
            problems.append(problem)
    for key in sorted(orphan_keys):
        problems.append(ChainProblem(key, 0, None, "chain head is missing"))
    return VerifyReport(chains=len(heads), entries=total, problems=problems)
