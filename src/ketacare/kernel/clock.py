"""The clinic clock: real time, unless a test or the demo moves it.

Every app reads the time through `now()`, so a browser test can let two hours of observation pass
without sleeping, and the demo can record past sessions at their real times; moving this clock
moves it for every app at once. Production never sets an offset or a frozen time. Security
timing (sign-in lockout, idle timeout, token use) and the audit trail's timestamps keep the
server's wall clock: they record when something really happened.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.utils import timezone

from ketacare.errors import Refused

# Tablets' and phones' clocks drift: a time stamped up to this far ahead of the server is
# accepted (a reading, a signature, an answer); later than that is refused as in the future.
CLOCK_SKEW = timedelta(minutes=2)

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """The current time as the clinic's records see it (timezone-aware)."""
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


def is_future(moment: datetime) -> bool:
    """Whether a stamped time is later than now plus the allowed clock skew."""
    return moment > now() + CLOCK_SKEW


def ensure_not_future(moment: datetime, *, field: str, message: str, code: str = "") -> None:
    """Refuse (422, naming `field`) a time later than now plus the allowed clock skew."""
    if is_future(moment):
        raise Refused(message, field=field, code=code)
