"""Every GET page stays within the query count recorded for it, so a new N+1 fails the build.

The walk GETs every staff page once, as the first role (in ROLE_ORDER) the permission table
lets in, on the route walk's records of clinic A, and compares the number of SQL statements
with tests/web/query_baseline.json (per database vendor: savepoints and locks differ). A page
that needs more than its baseline fails, naming the page; a new page without a baseline fails
until it is recorded. After a deliberate change, record again and review the diff:

    KETACARE_RECORD_QUERY_BASELINE=1 .venv/bin/pytest tests/web/test_query_baseline.py
    (and again with DATABASE_URL set to a PostgreSQL database of your own)

Pages with lists also have budgets with one and with many rows (tests/<app>/test_pages.py).
"""

import json
import os
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketacare.accounts.permissions import role_may
from ketacare.accounts.roles import Role
from tests.routes import PUBLIC_PAGES, page_routes, path_values

pytestmark = pytest.mark.django_db

BASELINE = Path(__file__).with_name("query_baseline.json")
ROLE_ORDER = (Role.PRESCRIBER, Role.NURSE, Role.ADMIN, Role.THERAPIST, Role.FRONT_DESK)
RECORD = os.environ.get("KETACARE_RECORD_QUERY_BASELINE") == "1"


def _count_queries(world) -> dict[str, int]:
    values = path_values(world)
    counts: dict[str, int] = {}
    for route in sorted(page_routes(), key=lambda r: r.name):
        if route.name in PUBLIC_PAGES:
            continue
        role = next(r for r in ROLE_ORDER if role_may(r, route.view.required_permission))
        client = world.web(world.staff[role.value])
        url = reverse(route.name, kwargs={p: values[p] for p in route.parameters})
        client.get(url)  # warm: the session row and per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code in (200, 302, 405), (route.name, response.status_code)
        counts[route.name] = len(queries)
    return counts


def test_every_get_page_stays_within_its_recorded_query_count(world):
    # given the recorded baseline of this database
    vendor = connection.vendor
    recorded = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    # when every page is walked
    counts = _count_queries(world)
    if RECORD:
        recorded[vendor] = counts
        BASELINE.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        return
    # then no page needs more queries than it did, and every page has a baseline
    baseline = recorded.get(vendor, {})
    grew = {
        name: f"{baseline[name]} -> {count}"
        for name, count in counts.items()
        if name in baseline and count > baseline[name]
    }
    missing = sorted(set(counts) - set(baseline))
    assert grew == {}, f"pages need more queries than recorded (an N+1?): {grew}"
    assert missing == [], f"record a query baseline for the new pages: {missing}"
