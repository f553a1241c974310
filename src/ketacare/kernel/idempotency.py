"""Idempotency keys: a retried submission returns the first result and writes nothing twice.

Every POST step carries a key (a hidden form field, or the `Idempotency-Key` header / an
`idempotency_key` body field in the API), unique per clinic. Records created by one submission
keep the key in a column named `idempotency_key`; steps whose result can be one of several kinds
(the treatment session's steps) claim the key in their own table first. Either way the key is
checked here, and a key reused for a different submission is refused here, with one message and
one code.
"""

import re
from collections.abc import Callable
from typing import Annotated, TypeVar

from django.db import models
from ninja import Header
from pydantic import StringConstraints

from ketacare.errors import Conflict, Refused

FIELD = "idempotency_key"
# 8-64 letters, digits or -_.: (a UUID, a token_hex(16), or a client's own scheme).
KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,64}$"
KEY = re.compile(KEY_PATTERN)
# The same characters, any length up to 64, for API fields where the key is optional.
OPTIONAL_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{0,64}$"
REUSED = "idempotency_key_reused"

# The key in the API, defined once. A body field, optional: a submission that sends one is
# recorded once per key; surrounding spaces are dropped, anything else malformed is a 422.
IdempotencyKey = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64, pattern=OPTIONAL_KEY_PATTERN)
]
# A body field that must be sent (a note's form key): at least one character.
RequiredIdempotencyKey = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=OPTIONAL_KEY_PATTERN
    ),
]
# The `Idempotency-Key` header of the treatment session's steps; `ensure_key` checks it in the
# service, so a malformed key gets the same 422 from the API and the pages.
IdempotencyKeyHeader = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        description="A key unique to this submission; a retry with it records nothing twice.",
    ),
]

RowT = TypeVar("RowT", bound=models.Model)


def ensure_key(key: str | None) -> str:
    """The key as given, or a 422 naming `idempotency_key` when it is missing or malformed."""
    if not KEY.match(key or ""):
        raise Refused(
            "Each submission needs an idempotency key of 8-64 letters, digits or -_.:",
            field=FIELD,
            code=FIELD,
        )
    return key or ""


def key_reused(what: str = "a different submission") -> Conflict:
    """The 409 for a key already used by another submission."""
    return Conflict(f"This submission key was already used for {what}.", field=FIELD, code=REUSED)


def replayed(
    model: type[RowT], *, clinic_id: int, key: str, same: Callable[[RowT], bool], what: str = ""
) -> RowT | None:
    """The row an earlier submission with this key created in the clinic, or None.

    `same` says whether that row answers this submission (same patient, same instrument...);
    if it does not, the key was reused for something else: 409 naming `idempotency_key`.
    An empty key never replays.
    """
    if not key:
        return None
    row = model._default_manager.filter(clinic_id=clinic_id, **{FIELD: key}).first()
    if row is not None and not same(row):
        raise key_reused(what or "a different submission")
    return row
