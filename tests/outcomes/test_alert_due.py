"""Safety alerts take their urgency, order and deadline from the core (`clinical.alerts`)."""

from datetime import timedelta

import pytest

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.clinical.alerts import urgency
from ketacare.outcomes import selectors, services
from ketacare.outcomes.models import ResponseSource
from tests.outcomes.factories import phq9_answers

pytestmark = pytest.mark.django_db


def _nurse(world):
    return Actor(user=world.staff["nurse"], clinic=world.clinic_a, role=Role.NURSE)


def _raise(world, instrument_id, answers, *, patient=None):
    return services.scale_response_record(
        actor=_nurse(world),
        patient=patient or world.patient_a,
        instrument_id=instrument_id,
        answers=answers,
        source=ResponseSource.STAFF,
    ).alerts[0]


def test_each_alert_is_stored_with_the_cores_urgency(world):
    alert = _raise(world, "phq9", phq9_answers(14, item9=1))
    assert alert.severity == urgency(alert.code) == "same_day"


def test_the_worklist_orders_by_the_cores_rank(world):
    # given a same-day alert raised first and an immediate one after it
    same_day = _raise(world, "phq9", phq9_answers(14, item9=1))
    immediate = _raise(world, "cssrs_screen", [True, True, True, True, False, False])
    # when the worklist is read
    rows = selectors.alert_list(actor=_nurse(world))
    # then the immediate alert comes first
    assert [a.pk for a in rows] == [immediate.pk, same_day.pk]


def test_a_same_day_alert_from_yesterday_shows_as_overdue(world, session_clock):
    # given a PHQ-9 item 9 alert raised now, and nobody has resolved it
    alert = _raise(world, "phq9", phq9_answers(14, item9=1))
    client = world.web(world.staff["nurse"])
    assert 'data-testid="alert-overdue"' not in client.get("/outcomes/alerts/").content.decode()
    # when the clinic's next day comes
    session_clock.travel(timedelta(days=1, hours=1))
    # then the core says it is overdue, and the worklist, the alert and the start page show it
    assert selectors.alert_due_for_actor(actor=_nurse(world), alert=alert).overdue
    assert 'data-testid="alert-overdue"' in client.get("/outcomes/alerts/").content.decode()
    detail = client.get(f"/outcomes/alerts/{alert.pk}/").content.decode()
    assert 'data-testid="alert-overdue"' in detail
    panel = client.get("/outcomes/alerts/panel/", headers={"HX-Request": "true"})
    assert 'data-testid="alert-overdue"' in panel.content.decode()


def test_a_resolved_alert_from_yesterday_is_not_overdue(world, session_clock):
    alert = _raise(world, "phq9", phq9_answers(14, item9=1))
    nurse = _nurse(world)
    alert = services.alert_acknowledge(actor=nurse, alert_id=alert.pk, version=alert.version)
    services.alert_resolve(actor=nurse, alert_id=alert.pk, version=alert.version, note="Called")
    session_clock.travel(timedelta(days=1, hours=1))
    alert.refresh_from_db()
    assert not selectors.alert_due_for_actor(actor=nurse, alert=alert).overdue
