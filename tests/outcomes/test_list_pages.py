"""Safety alerts and missed questionnaires page by keyset: every row once, newest first."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import PatientFactory
from tests.outcomes.factories import assignment_row, suicidality_alert

pytestmark = pytest.mark.django_db


def _walk(client, url, testid):
    seen, cursor, pages = [], None, 0
    while True:
        response = client.get(url, {"after": cursor} if cursor else {})
        assert response.status_code == 200
        page = response.context["page"]
        seen += [row.pk for row in page]
        assert response.content.decode().count(f'data-testid="{testid}"') == len(page)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages


def test_missed_questionnaires_page_through_every_row_once(world, monkeypatch):
    monkeypatch.setattr("ketacare.followup.selectors.PAGE_SIZE", 4)
    now = timezone.now()
    rows = [
        assignment_row(
            PatientFactory(clinic=world.clinic_a),
            opens_at=now - timedelta(days=10),
            due_by=now - timedelta(days=1, hours=n),
        )
        for n in range(10)
    ]
    seen, pages = _walk(world.web(world.staff["nurse"]), "/outcomes/overdue/", "overdue-row")
    assert pages == 3
    assert seen == [a.pk for a in rows]  # latest due first


def test_safety_alerts_page_through_every_alert_once(world, monkeypatch):
    monkeypatch.setattr("ketacare.outcomes.selectors.LIST_LIMIT", 3)
    alerts = [suicidality_alert(PatientFactory(clinic=world.clinic_a)) for _ in range(7)]
    client = world.web(world.staff["prescriber"])
    seen, pages = _walk(client, "/outcomes/alerts/", "alert-row")
    assert pages == 3
    assert sorted(seen) == sorted(a.pk for a in alerts)
    assert len(seen) == len(set(seen))


def test_a_stranger_cursor_gives_the_first_page(world):
    assignment_row(
        PatientFactory(clinic=world.clinic_a),
        opens_at=timezone.now() - timedelta(days=5),
        due_by=timezone.now() - timedelta(days=1),
    )
    response = world.web(world.staff["nurse"]).get("/outcomes/overdue/", {"after": "%%%"})
    assert response.status_code == 200
    assert response.context["page"].is_first and len(response.context["page"]) == 1
