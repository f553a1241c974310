"""The clinic clock: real time, unless a test or the demo moves it.

Every app reads the time through this module and nowhere else (ruff bans `timezone.now`,
`datetime.now` and `date.today` outside it). Two readings:

- `now()` is the clinic clock: the time of the clinic's records and decisions (a dose, an
  observation, a questionnaire falling due, the clinic's day). A browser test can let two hours
  of observation pass without sleeping, and the demo can record past sessions at their real
  times; moving this clock moves it for every app at once.
- `wall_now()` is the server's wall clock, which nothing moves: security timing (sign-in
  lockout, re-authentication, token issue and expiry, export expiry) and the audit trail's and
  archives' stamps record when something really happened.

Production never sets an offset or a frozen time, so the two agree there.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

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


def wall_now() -> datetime:
    """The server's real time (timezone-aware), never moved by `travel` or `frozen_at`.

    For security and audit times: re-authentication age, token and link expiry, rate-limit
    windows of sign-in, audit and backup stamps. A clinical record's time is `now()`.
    """
    return timezone.now()


def today() -> date:
    """The clinic clock's calendar day in the active time zone (the clinic's, inside a clinic
    page; see `kernel.clinic_time.in_clinic_time`)."""
    return timezone.localdate(now())


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
