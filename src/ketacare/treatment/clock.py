"""The session clock: real time, unless a test or the demo moves it.

Services, selectors and pages read the time through `now()`, so a browser test can let two
hours of observation pass without sleeping, and the demo can record past sessions at their
real times. Production never sets an offset or a frozen time.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.utils import timezone

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """The current time as sessions see it (timezone-aware)."""
    if _frozen is not None:
        return _frozen
    return timezone.now() + _offset


def travel(delta: timedelta) -> None:
    """Move the clock forward (tests only): the live server sees the new time at once."""
    global _offset
    _offset += delta


def reset() -> None:
    """Back to real time."""
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Hold the clock at `moment` inside the block (demo data of past sessions, tests)."""
    global _frozen
    previous = _frozen
    _frozen = moment
    try:
        yield
    finally:
        _frozen = previous
