"""Read dates PostgreSQL holds but Python cannot (1 BC, 'infinity') instead of failing the page.

A row stored before the input bounds existed (a scale response at 0001-01-01T00:00+14:00 is
1 BC in UTC) would otherwise make every query touching it raise, taking whole clinic pages
down. Such a value loads as the earliest (or latest) date Python can still convert between
time zones; `ketacare.kernel.bounds.in_range` then tells pages to leave it out of charts.
"""

from datetime import UTC, date, datetime
from typing import Any

STORED_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
STORED_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _clamped(original: Any, low: object, high: object) -> Any:
    from psycopg import DataError

    def load(self: Any, data: Any) -> Any:
        try:
            return original(self, data)
        except (DataError, OverflowError, ValueError):
            text = bytes(data)
            return low if b"BC" in text or text.startswith((b"-", b"0000")) else high

    return load


def install() -> None:
    """Wrap psycopg's date and timestamp loaders once (no effect without psycopg)."""
    try:
        from psycopg.types import datetime as loaders
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return
    naive_low, naive_high = STORED_EARLIEST.replace(tzinfo=None), STORED_LATEST.replace(tzinfo=None)
    targets: list[tuple[Any, object, object]] = [
        (loaders.DateLoader, date(1, 1, 2), date(9999, 12, 30)),
        (loaders.TimestampLoader, naive_low, naive_high),
        (loaders.TimestamptzLoader, STORED_EARLIEST, STORED_LATEST),
    ]
    for cls, low, high in targets:
        if not getattr(cls, "_ketacare_clamped", False):
            cls.load = _clamped(cls.load, low, high)
            cls._ketacare_clamped = True
