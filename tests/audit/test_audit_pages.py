"""The audit trail's pages: keyset pages that never count the trail, and day filters."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketacare.audit.services import audit_record

pytestmark = pytest.mark.django_db


def _entries(world, count):
    for n in range(count):
        audit_record(
            actor=None,
            action="read",
            object_type="patient",
            object_id=n,
            clinic_id=world.clinic_a.pk,
            username="a.nurse",
        )


def test_walking_the_older_links_shows_every_entry_once_newest_first(world):
    # given 250 entries
    _entries(world, 250)
    client = world.web(world.staff["admin"])
    # when the admin follows "Older" to the end
    seen, cursor, pages = [], None, 0
    while True:
        response = client.get("/audit/", {"after": cursor} if cursor else {})
        assert response.status_code == 200
        page = response.context["page"]
        seen += [(e.at, e.seq) for e in page]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        assert f"after={cursor}".encode() in response.content
    # then every entry appeared once, in order, over three pages
    assert pages == 3
    assert len(seen) == len(set(seen)) >= 250
    assert seen == sorted(seen, reverse=True)


def test_a_cursor_that_is_not_ours_shows_the_first_page(world):
    _entries(world, 5)
    client = world.web(world.staff["admin"])
    response = client.get("/audit/", {"after": "not-a-cursor"})
    assert response.status_code == 200
    assert response.context["page"].is_first


def test_the_audit_page_never_counts_the_trail(world):
    _entries(world, 120)
    client = world.web(world.staff["admin"])
    client.get("/audit/")

    with CaptureQueriesContext(connection) as queries:
        client.get("/audit/")
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]


def test_day_filters_are_the_clinics_days(world):
    _entries(world, 3)
    client = world.web(world.staff["admin"])
    today = timezone.localtime(timezone=ZoneInfo(world.clinic_a.time_zone)).date()
    shown = client.get("/audit/", {"since": today.isoformat(), "until": today.isoformat()})
    assert len(shown.context["page"]) >= 3
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert len(client.get("/audit/", {"since": tomorrow}).context["page"]) == 0
