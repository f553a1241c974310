"""Clinic time: the clinic's time zone, its local days and hours, and pages shown in it."""

import functools
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ketacare.kernel import clock


class HasTimeZone(Protocol):
    """Anything with an IANA `time_zone` name: a clinic."""

    time_zone: str


def clinic_zone(clinic: HasTimeZone | str) -> ZoneInfo:
    """The clinic's time zone (from the clinic or its IANA name): its calendar days, opening
    hours and protocol days are local."""
    return ZoneInfo(clinic if isinstance(clinic, str) else clinic.time_zone)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day of an instant in the clinic's zone."""
    return moment.astimezone(zone).date()


def clinic_today(clinic: HasTimeZone) -> date:
    """Today at the clinic: the clinic clock's calendar day in the clinic's zone."""
    return local_date(clock.now(), clinic_zone(clinic))


def at_local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """An aware instant from a local date and wall-clock time in the clinic's zone."""
    return datetime.combine(day, clock, tzinfo=zone)


View = Callable[..., HttpResponse]


def in_clinic_time(view: View) -> View:
    """Run a page (inside `clinic_view`) with the actor's clinic time zone active, so forms parse
    and pages show times as the clinic's wall clock (a form's 09:30 is 09:30 at the clinic)."""

    @functools.wraps(view)
    def zoned(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = request.actor  # type: ignore[attr-defined]
        with timezone.override(clinic_zone(actor.clinic)):
            return view(request, *args, **kwargs)

    return zoned
