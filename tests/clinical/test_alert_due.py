"""When a safety alert is due and overdue: the core's urgency, in the clinic's own day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.alerts import IMMEDIATE, REVIEW, SAME_DAY, due, urgency
from ketacare.clinical.instruments import ALERT_SUICIDALITY

DENVER = ZoneInfo("America/Denver")
RAISED = datetime(2026, 3, 2, 15, 0, tzinfo=DENVER)  # a Monday afternoon at the clinic


def test_a_same_day_alert_from_yesterday_is_overdue_today() -> None:
    # given a PHQ-9 item 9 alert raised yesterday afternoon and still unresolved
    # when it is read at nine the next morning
    found = due(
        urgency(ALERT_SUICIDALITY),
        raised_at=RAISED,
        resolved=False,
        now=RAISED + timedelta(hours=18),
        zone=DENVER,
    )
    # then it was due by the end of yesterday and is overdue
    assert found.urgency == SAME_DAY
    assert found.due_by == datetime(2026, 3, 3, 0, 0, tzinfo=DENVER)
    assert found.overdue


def test_a_same_day_alert_is_not_overdue_later_the_same_clinic_day() -> None:
    # 23:30 in Denver is already the next day in UTC: the clinic's day counts
    found = due(
        SAME_DAY,
        raised_at=RAISED,
        resolved=False,
        now=datetime(2026, 3, 2, 23, 30, tzinfo=DENVER).astimezone(UTC),
        zone=DENVER,
    )
    assert not found.overdue


def test_a_resolved_alert_is_never_overdue() -> None:
    found = due(
        SAME_DAY, raised_at=RAISED, resolved=True, now=RAISED + timedelta(days=3), zone=DENVER
    )
    assert not found.overdue


def test_an_immediate_alert_is_due_when_raised() -> None:
    found = due(IMMEDIATE, raised_at=RAISED, resolved=False, now=RAISED, zone=DENVER)
    assert found.due_by == RAISED
    assert not found.overdue
    later = due(
        IMMEDIATE, raised_at=RAISED, resolved=False, now=RAISED + timedelta(minutes=1), zone=DENVER
    )
    assert later.overdue


def test_a_review_alert_has_no_deadline() -> None:
    found = due(
        REVIEW, raised_at=RAISED, resolved=False, now=RAISED + timedelta(days=30), zone=DENVER
    )
    assert found.due_by is None
    assert not found.overdue


def test_an_unknown_urgency_is_treated_as_immediate() -> None:
    found = due(
        "unheard of", raised_at=RAISED, resolved=False, now=RAISED + timedelta(hours=1), zone=DENVER
    )
    assert found.urgency == IMMEDIATE
    assert found.overdue


def test_a_naive_time_is_refused() -> None:
    naive = datetime(2026, 3, 2, 15, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidInput) as error:
        due(SAME_DAY, raised_at=naive, resolved=False, now=RAISED, zone=DENVER)
    assert error.value.field == "raised_at"
