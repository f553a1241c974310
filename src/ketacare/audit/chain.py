"""The hash that links each audit entry to the one before it."""

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def entry_digest(
    *,
    prev_hash: str,
    chain_key: str,
    seq: int,
    at: datetime,
    clinic_id: int | None,
    actor_id: int | None,
    actor_username: str,
    actor_role: str,
    channel: str,
    action: str,
    object_type: str,
    object_id: str,
    patient_id: int | None,
    client_address: str,
    detail: dict[str, Any],
) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the entry's fields."""
    body = {
        "chain_key": chain_key,
        "seq": seq,
        # Microsecond ISO form: the same on SQLite and PostgreSQL after a round trip.
        "at": at.isoformat(timespec="microseconds"),
        "clinic_id": clinic_id,
        "actor_id": actor_id,
        "actor_username": actor_username,
        "actor_role": actor_role,
        "channel": channel,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "patient_id": patient_id,
        "client_address": client_address,
        "detail": detail,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()
