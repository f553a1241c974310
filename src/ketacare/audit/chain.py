"""The keyed link between each chained record and the one before it.

Every append-only record (the audit trail, the controlled-substance ledger, signed forms)
is chained with HMAC-SHA-256 under a key that lives outside the database
(`KETACARE_CHAIN_KEY` or `KETACARE_CHAIN_KEY_FILE`). Someone who can write to the
database but does not hold the key cannot forge an entry or re-hash the chain after an edit.
"""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings

GENESIS_HASH = "0" * 64


def chain_secret() -> bytes:
    """The chain key from settings (never from the database)."""
    key = settings.KETACARE_CHAIN_KEY
    return key if isinstance(key, bytes) else str(key).encode()


def key_id(key: bytes | None = None) -> str:
    """A short public fingerprint of the key, so a checkpoint names the key it was signed with."""
    secret = chain_secret() if key is None else key
    return hashlib.sha256(b"ketacare-chain-key-id:" + secret).hexdigest()[:16]


def canonical_value(value: Any) -> Any:
    """A stable, database-independent form of one hashed value."""
    if isinstance(value, datetime):
        # Microsecond ISO form in UTC: the same on SQLite and PostgreSQL after a round trip.
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def canonical_json(body: dict[str, Any]) -> str:
    """Sorted, compact JSON: the exact bytes that are signed."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)


def link_digest(*, prev_hash: str, body: dict[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA-256 under the chain key over the previous hash and the canonical body."""
    secret = chain_secret() if key is None else key
    message = (prev_hash + canonical_json(body)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def legacy_digest(*, prev_hash: str, body: dict[str, Any]) -> str:
    """The unkeyed SHA-256 link of trails written before the chain was keyed (migration only)."""
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def sign(body: dict[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA-256 of a canonical JSON body (checkpoints, manifests)."""
    secret = chain_secret() if key is None else key
    return hmac.new(secret, canonical_json(body).encode(), hashlib.sha256).hexdigest()


def signature_matches(body: dict[str, Any], signature: str, key: bytes | None = None) -> bool:
    """Constant-time check of `sign`."""
    return hmac.compare_digest(sign(body, key), signature)
