"""Keyset pagination: a page starts after the last row of the one before, found through an index.

An offset (`page=40`) makes the database walk and throw away every row before the page, and a
paginator's page count makes it count the whole list; both grow with the clinic. A keyset page
asks for the rows after a cursor (the sort-key values of the previous page's last row), which an
index on those keys answers in the same time on the first page and the thousandth.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet

T = TypeVar("T", bound=Model)


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page of rows, and the cursor of the next page (None on the last)."""

    items: list[T]
    next_cursor: str | None
    is_first: bool

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _encode(values: Sequence[Any]) -> str:
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# What the database can compare a cursor value with (a signed 64-bit integer, text without NUL
# or other control characters). The kernel's input bounds say the same for forms and the API;
# this module sits beside the kernel and cannot import it.
BIGINT_MAX = 2**63 - 1
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _comparable(value: Any) -> bool:
    """Whether a parsed cursor value can be sent to the database without an error."""
    if value is None:
        return False  # every sort key is NOT NULL: `> NULL` is no query
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -BIGINT_MAX <= value <= BIGINT_MAX
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return not CONTROL_CHARACTERS.search(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return False  # our cursors carry the offset; a naive time is not one of them
        try:
            value.astimezone(UTC)  # 0001-01-01T00:00+14:00 has no UTC instant
        except (OverflowError, ValueError):
            return False
    return True


def _decode(model: type[Model], keys: Sequence[str], cursor: str) -> list[Any] | None:
    """The cursor's values, parsed by each key's model field; None when it is not ours.

    A cursor is client input: one that does not decode, has the wrong shape, or holds a value
    the database cannot compare (null, an id past 64 bits, infinity, a NUL, a time before year 1
    in UTC) is not ours, and the list starts from its first page.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        if not all(isinstance(v, str | int | float | bool) for v in values):
            return None
        if not all(_comparable(v) for v in values):
            return None
        fields = [model._meta.get_field(k) for k in keys]
        parsed = [
            f.to_python(v)  # type: ignore[union-attr]
            for f, v in zip(fields, values, strict=True)
        ]
    except (ValueError, TypeError, OverflowError, binascii.Error, ValidationError):
        return None
    if not all(_comparable(v) for v in parsed):
        return None
    return parsed


def keyset_page(
    rows: QuerySet[T], *, keys: Sequence[str], cursor: str | None, size: int, descending: bool
) -> KeysetPage[T]:
    """A page of `rows` ordered by `keys` (the last key unique), after `cursor`.

    A cursor that does not parse gives the first page, never an error or another clinic's rows
    (the caller's queryset is already scoped).
    """
    direction = "-" if descending else ""
    ordered = rows.order_by(*(direction + k for k in keys))
    values = _decode(rows.model, keys, cursor) if cursor else None
    if values is not None:
        after = Q()
        for i, key in enumerate(keys):
            step = Q(**{f"{key}__{'lt' if descending else 'gt'}": values[i]})
            for earlier, value in zip(keys[:i], values[:i], strict=True):
                step &= Q(**{earlier: value})
            after |= step
        ordered = ordered.filter(after)
    items = list(ordered[: size + 1])
    more = len(items) > size
    items = items[:size]
    next_cursor = _encode([getattr(items[-1], k) for k in keys]) if more and items else None
    return KeysetPage(items=items, next_cursor=next_cursor, is_first=values is None)
