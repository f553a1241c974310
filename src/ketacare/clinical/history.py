"""A course's history as the core reads it: the outcome baseline and the titration so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ketacare.clinical.errors import InvalidInput


@dataclass(frozen=True)
class TimedScore:
    """A scale total and when it was recorded (timezone-aware)."""

    at: datetime
    total: int


@dataclass(frozen=True)
class PastDose:
    """An earlier dosed session of the course: its local day and the verified dose."""

    day: date
    dose_mg: Decimal
    mg_per_kg: Decimal | None = None


@dataclass(frozen=True)
class Titration:
    """What the dose rules need from the course so far: the last dose and the last increase."""

    previous_dose_mg: Decimal | None
    previous_mg_per_kg: Decimal | None
    days_since_last_increase: int | None


def baseline_index(scores: Sequence[TimedScore], first_dose_at: datetime | None) -> int | None:
    """Which score is the course's baseline: the last one recorded before the first dose.

    Before any dose, the latest score so far. A score recorded after the first dose started (a
    portal answer during or after the first infusion) is never the baseline; with none before the
    first dose there is no baseline (None), rather than a post-dose score passed off as one.
    """
    for index, score in enumerate(scores):
        _aware(score.at, f"scores[{index}].at")
    if first_dose_at is not None:
        _aware(first_dose_at, "first_dose_at")
    ordered = sorted(range(len(scores)), key=lambda i: (scores[i].at, i))
    before = [i for i in ordered if first_dose_at is None or scores[i].at < first_dose_at]
    return before[-1] if before else None


def titration(past: Sequence[PastDose], today: date) -> Titration:
    """The previous dose and the days since the dose last went up (from the first dose if never).

    `past` is the course's earlier dosed sessions, oldest first.
    """
    if not past:
        return Titration(None, None, None)
    since = past[0].day
    for before, after in zip(past, past[1:], strict=False):
        if after.dose_mg > before.dose_mg:
            since = after.day
    if today < since:
        raise InvalidInput("today is before the last dose", field="today")
    last = past[-1]
    return Titration(last.dose_mg, last.mg_per_kg, (today - since).days)


def _aware(value: object, field: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be a timezone-aware datetime, got {value!r}", field=field)
