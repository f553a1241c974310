"""Append to and verify every append-only chain (audit trail, ledger, signed forms).

A record kind joins by subclassing `ChainedRecord`; nothing else registers it. Appending
locks the chain's head row, so concurrent writers get consecutive sequence numbers.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.apps import apps
from django.db import transaction

from ketacare.audit.chain import GENESIS_HASH, link_digest
from ketacare.audit.checkpoints import (
    CheckpointError,
    Heads,
    checkpoint_due,
    mark_written,
    read_checkpoints,
    write_checkpoint,
)
from ketacare.audit.models import ChainedRecord, ChainHead

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=ChainedRecord)


def chained_models() -> list[type[ChainedRecord]]:
    """Every concrete chained record kind installed, by kind."""
    found = [
        model
        for model in apps.get_models()
        if issubclass(model, ChainedRecord) and not model._meta.abstract
    ]
    return sorted(found, key=lambda model: model.CHAIN_KIND)


def chain_append(model: type[R], *, chain_key: str, values: dict[str, Any]) -> R:
    """Append one record to its chain, in the caller's transaction if there is one."""
    with transaction.atomic():
        kind = model.CHAIN_KIND
        head = ChainHead.objects.select_for_update().filter(kind=kind, key=chain_key).first()
        if head is None:  # the chain's first record
            ChainHead.objects.get_or_create(kind=kind, key=chain_key)
            head = ChainHead.objects.select_for_update().get(kind=kind, key=chain_key)
        record = model(chain_key=chain_key, seq=head.last_seq + 1, **values)
        record.prev_hash = head.last_hash
        record.entry_hash = link_digest(prev_hash=head.last_hash, body=record.chain_body())
        record.save(force_insert=True)
        head.last_seq = record.seq
        head.last_hash = record.entry_hash
        head.save(update_fields=["last_seq", "last_hash"])
        if checkpoint_due():
            transaction.on_commit(_checkpoint_quietly)
    return record


def chain_heads() -> Heads:
    """Every chain's head as the database has it now: `{"kind/key": (seq, hash)}`."""
    rows = ChainHead.objects.values_list("kind", "key", "last_seq", "last_hash")
    return {f"{kind}/{key}": (seq, digest) for kind, key, seq, digest in rows}


def chains_checkpoint(path: Path | None = None) -> int:
    """Append a signed checkpoint of every chain head that moved; returns how many moved."""
    moved = write_checkpoint(chain_heads(), path)
    mark_written()
    return moved


def _checkpoint_quietly() -> None:
    # A checkpoint that cannot be written must not lose the clinical write that triggered it;
    # it is logged as an error, and `ketacare audit verify --require-checkpoint` fails.
    try:
        chains_checkpoint()
    except (OSError, CheckpointError):
        logger.exception("Could not write the chain checkpoint")


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
    """What was checked, against which checkpoint, and the first problem in each broken chain."""

    chains: int
    entries: int
    problems: list[ChainProblem]
    checkpoint_lines: int = 0
    checkpoint_at: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _verify_chain(
    model: type[ChainedRecord], head: ChainHead, pinned: tuple[int, str] | None
) -> tuple[int, ChainProblem | None]:
    name = f"{model.CHAIN_KIND}/{head.key}"
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    records = model._default_manager.filter(chain_key=head.key).order_by("seq")
    for record in records.iterator(chunk_size=2000):
        count += 1
        if record.seq != expected_seq:
            return count, ChainProblem(
                name, expected_seq, None, f"entry missing (next present is seq {record.seq})"
            )
        if record.prev_hash != expected_prev:
            return count, ChainProblem(
                name, record.seq, record.pk, "link to the previous entry is broken"
            )
        if link_digest(prev_hash=record.prev_hash, body=record.chain_body()) != record.entry_hash:
            return count, ChainProblem(
                name, record.seq, record.pk, "contents were altered or the entry was forged"
            )
        if pinned is not None and record.seq == pinned[0] and record.entry_hash != pinned[1]:
            return count, ChainProblem(
                name, record.seq, record.pk, "differs from the signed checkpoint (re-written)"
            )
        expected_prev = record.entry_hash
        expected_seq += 1
    last = expected_seq - 1
    if pinned is not None and last < pinned[0]:
        return count, ChainProblem(
            name,
            last + 1,
            None,
            f"entries after seq {last} were removed (the signed checkpoint has seq {pinned[0]})",
        )
    if last != head.last_seq or expected_prev != head.last_hash:
        return count, ChainProblem(name, last + 1, None, f"entries after seq {last} were removed")
    return count, None


def chains_verify(
    *, checkpoints: Path | None = None, use_checkpoints: bool = True, pinned: Heads | None = None
) -> VerifyReport:
    """Recompute every chain of every kind, and hold each to its last signed checkpoint.

    `pinned` holds the chains to given heads instead (a backup's signed manifest).
    """
    problems: list[ChainProblem] = []
    lines, last_at = 0, ""
    if pinned is not None:
        use_checkpoints = False
    pinned = dict(pinned or {})
    if use_checkpoints:
        try:
            state = read_checkpoints(checkpoints)
        except CheckpointError as error:
            problems.append(ChainProblem("checkpoints", 0, None, str(error)))
        else:
            pinned, lines, last_at = state.heads, state.lines, state.last_at
    total = chains = 0
    seen: set[str] = set()
    for model in chained_models():
        kind = model.CHAIN_KIND
        heads = list(ChainHead.objects.filter(kind=kind).order_by("key"))
        known = {head.key for head in heads}
        stored = set(model._default_manager.values_list("chain_key", flat=True).distinct())
        for head in heads:
            name = f"{kind}/{head.key}"
            seen.add(name)
            count, problem = _verify_chain(model, head, pinned.get(name))
            total += count
            chains += 1
            if problem:
                problems.append(problem)
        for key in sorted(stored - known):
            seen.add(f"{kind}/{key}")
            problems.append(ChainProblem(f"{kind}/{key}", 0, None, "chain head is missing"))
    for name in sorted(set(pinned) - seen):
        problems.append(
            ChainProblem(
                name,
                1,
                None,
                f"whole chain deleted (the signed checkpoint has seq {pinned[name][0]})",
            )
        )
    return VerifyReport(
        chains=chains,
        entries=total,
        problems=problems,
        checkpoint_lines=lines,
        checkpoint_at=last_at,
    )
