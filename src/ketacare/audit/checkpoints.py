"""Signed checkpoints of every chain head, appended to a file outside the database.

Each line is one JSON object: when it was written, the key fingerprint, the heads that changed
since the line before (`"kind/chain_key": [seq, hash]`), the previous line's signature and its
own HMAC signature. Folding the lines gives the newest head of every chain ever checkpointed;
a head that later shrinks, changes or disappears from the database is tampering.
The operator ships the file elsewhere (it only grows), so the copy survives a compromised host.
"""

import fcntl
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from ketacare.audit.chain import GENESIS_HASH, key_id, sign, signature_matches
from ketacare.kernel import clock

logger = logging.getLogger(__name__)

Heads = dict[str, tuple[int, str]]


class CheckpointError(ValueError):
    """The checkpoint file is unreadable, unsigned by our key, or its lines do not link up."""


@dataclass
class CheckpointState:
    """The folded content of a checkpoint file: the newest checkpointed head of every chain."""

    heads: Heads = field(default_factory=dict)
    last_signature: str = GENESIS_HASH
    lines: int = 0
    last_at: str = ""
    offset: int = 0


def checkpoint_path() -> Path:
    """Where checkpoints are appended (`KETACARE_CHECKPOINT_FILE`)."""
    return Path(settings.KETACARE_CHECKPOINT_FILE)


def _fold_line(state: CheckpointState, raw: bytes, number: int) -> None:
    try:
        line = json.loads(raw)
        signature = line.pop("sig")
    except (ValueError, KeyError, AttributeError) as error:
        raise CheckpointError(f"checkpoint line {number} is not a signed checkpoint") from error
    if line.get("key_id") != key_id():
        raise CheckpointError(
            f"checkpoint line {number} was signed with another key ({line.get('key_id')})"
        )
    if not signature_matches(line, signature):
        raise CheckpointError(f"checkpoint line {number} has a bad signature")
    if line.get("prev") != state.last_signature:
        raise CheckpointError(f"checkpoint line {number} does not follow the line before it")
    for name, (seq, digest) in line["heads"].items():
        seen = state.heads.get(name)
        if seen is not None and seen[0] > seq:
            raise CheckpointError(f"checkpoint line {number} moves {name} back to seq {seq}")
        state.heads[name] = (int(seq), str(digest))
    state.last_signature = signature
    state.lines = number
    state.last_at = str(line.get("at", ""))


def read_checkpoints(
    path: Path | None = None, state: CheckpointState | None = None
) -> CheckpointState:
    """Check every line's signature and link and fold them; continue from `state` if given."""
    path = path or checkpoint_path()
    state = state or CheckpointState()
    if not path.exists():
        return state
    with path.open("rb") as handle:
        handle.seek(state.offset)
        for raw in handle:
            if not raw.endswith(b"\n"):
                raise CheckpointError(f"checkpoint line {state.lines + 1} is incomplete")
            _fold_line(state, raw, state.lines + 1)
            state.offset += len(raw)
    return state


_cache: dict[str, CheckpointState] = {}
_cache_lock = threading.Lock()
_last_written: dict[str, float] = {}


def write_checkpoint(heads: Heads, path: Path | None = None) -> int:
    """Append a signed line with the heads that moved since the last line; returns how many."""
    path = path or checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _cache_lock, path.open("ab+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            state = _cache.get(str(path))
            if state is None or state.offset > os.fstat(handle.fileno()).st_size:
                state = CheckpointState()
            state = read_checkpoints(path, state)
            changed = {name: head for name, head in heads.items() if state.heads.get(name) != head}
            if not changed:
                _cache[str(path)] = state
                return 0
            body = {
                "v": 1,
                "at": clock.wall_now().isoformat(timespec="seconds"),
                "key_id": key_id(),
                "prev": state.last_signature,
                "heads": {name: list(head) for name, head in sorted(changed.items())},
            }
            line = json.dumps({**body, "sig": sign(body)}, sort_keys=True, separators=(",", ":"))
            handle.write((line + "\n").encode())
            handle.flush()
            os.fsync(handle.fileno())
            state = read_checkpoints(path, state)
            _cache[str(path)] = state
            return len(changed)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checkpoint_due() -> bool:
    """True when this process has not written a checkpoint for the configured interval."""
    interval = settings.KETACARE_CHECKPOINT_INTERVAL_SECONDS
    if not interval:
        return False
    return time.monotonic() - _last_written.get(str(checkpoint_path()), -1e9) >= interval


def mark_written() -> None:
    """Remember when this process last checkpointed."""
    _last_written[str(checkpoint_path())] = time.monotonic()
