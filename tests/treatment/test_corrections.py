"""Readings and adverse events entered in error stay visible and stop counting; follow-ups."""

import pytest

from ketacare.audit.models import AuditEntry
from ketacare.errors import Conflict, Refused
from ketacare.treatment import services
from ketacare.treatment.models import AdverseEventFollowUp, MonitoringEntry
from ketacare.treatment.selectors import session_record
from tests.treatment.factories import check_in, key, reading, walk_to

pytestmark = pytest.mark.django_db


def _dosing(world, team):
    return walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")


def _event(team, session, outcome="ongoing"):
    return services.adverse_event_record(
        actor=team.nurse,
        session_id=session.pk,
        idempotency_key=key(),
        kind="nausea_vomiting",
        severity="mild",
        outcome=outcome,
    )


def test_a_reading_entered_in_error_stays_on_the_timeline_and_its_alarm_stops_counting(world, team):
    # given a mistyped reading that raised an alarm
    session = _dosing(world, team)
    wrong = reading(team, session, systolic=210, diastolic=125, heart_rate=80, spo2=98)
    assert session_record(actor=team.nurse, session_id=session.pk).unanswered_alarms
    # when it is marked entered in error
    services.monitoring_entry_enter_in_error(
        actor=team.nurse,
        session_id=session.pk,
        monitoring_entry_id=wrong.pk,
        reason="Cuff on the wrong arm size; repeated",
    )
    # then it is kept, with its values and reason, and no longer asks for an action
    record = session_record(actor=team.nurse, session_id=session.pk)
    kept = MonitoringEntry.objects.get(pk=wrong.pk)
    assert (kept.systolic, kept.entered_in_error_by) == (210, world.staff["nurse"])
    assert wrong.pk in [e.pk for e in record.entries]
    assert not record.unanswered_alarms
    assert AuditEntry.objects.filter(
        object_type="monitoring_entry", object_id=str(wrong.pk), detail__entered_in_error=True
    ).exists()
    page = world.web(world.staff["nurse"]).get(f"/sessions/{session.pk}/").content.decode()
    assert "Entered in error" in page and "Cuff on the wrong arm size" in page


def test_a_reading_entered_in_error_needs_a_reason_and_is_marked_once(world, team):
    session = _dosing(world, team)
    entry = reading(team, session, systolic=120, diastolic=80, heart_rate=70, spo2=98)
    with pytest.raises(Refused) as refused:
        services.monitoring_entry_enter_in_error(
            actor=team.nurse, session_id=session.pk, monitoring_entry_id=entry.pk, reason="x"
        )
    assert refused.value.code == "reason_required"
    services.monitoring_entry_enter_in_error(
        actor=team.nurse, session_id=session.pk, monitoring_entry_id=entry.pk, reason="Wrong chair"
    )
    with pytest.raises(Conflict) as again:
        services.monitoring_entry_enter_in_error(
            actor=team.nurse, session_id=session.pk, monitoring_entry_id=entry.pk, reason="Again!"
        )
    assert again.value.code == "already_entered_in_error"


def test_the_reading_page_action_marks_it(world, team):
    session = _dosing(world, team)
    entry = reading(team, session, systolic=120, diastolic=80, heart_rate=70, spo2=98)
    response = world.web(world.staff["nurse"]).post(
        f"/sessions/{session.pk}/monitoring/{entry.pk}/entered-in-error/",
        {"reason": "Another patient's reading"},
    )
    assert response.status_code == 302
    assert MonitoringEntry.objects.get(pk=entry.pk).entered_in_error_reason


def test_the_adverse_event_form_has_no_preselected_outcome(world, team):
    session = _dosing(world, team)
    page = world.web(world.staff["nurse"]).get(f"/sessions/{session.pk}/").content.decode()
    assert '<option value="" selected>— choose —</option>' in page


def test_an_adverse_event_is_followed_up_to_its_outcome(world, team):
    # given an ongoing event
    session = _dosing(world, team)
    event = _event(team, session)
    # when followed up twice, the second time resolved
    services.adverse_event_follow_up(
        actor=team.nurse,
        session_id=session.pk,
        adverse_event_id=event.pk,
        outcome="resolving",
        note="Ondansetron given; nausea easing",
    )
    services.adverse_event_follow_up(
        actor=team.prescriber,
        session_id=session.pk,
        adverse_event_id=event.pk,
        outcome="resolved",
        note="Phoned next morning: no nausea since 18:00",
    )
    # then the first record is unchanged and the outcome now is resolved
    event.refresh_from_db()
    assert event.outcome == "ongoing"
    assert event.outcome_now == "resolved" and event.followed_to_outcome
    assert AdverseEventFollowUp.objects.filter(adverse_event=event).count() == 2
    # and nothing more can be added once resolved
    with pytest.raises(Conflict) as closed:
        services.adverse_event_follow_up(
            actor=team.nurse,
            session_id=session.pk,
            adverse_event_id=event.pk,
            outcome="ongoing",
            note="late",
        )
    assert closed.value.code == "adverse_event_closed"


def test_a_follow_up_needs_an_outcome_and_a_note(world, team):
    session = _dosing(world, team)
    event = _event(team, session)
    with pytest.raises(Refused) as no_outcome:
        services.adverse_event_follow_up(
            actor=team.nurse,
            session_id=session.pk,
            adverse_event_id=event.pk,
            outcome="",
            note="seen",
        )
    assert no_outcome.value.code == "choice"
    with pytest.raises(Refused) as no_note:
        services.adverse_event_follow_up(
            actor=team.nurse,
            session_id=session.pk,
            adverse_event_id=event.pk,
            outcome="resolved",
            note=" ",
        )
    assert no_note.value.field == "note"


def test_an_adverse_event_entered_in_error_is_kept_and_not_followed_up(world, team):
    session = _dosing(world, team)
    event = _event(team, session)
    services.adverse_event_enter_in_error(
        actor=team.nurse,
        session_id=session.pk,
        adverse_event_id=event.pk,
        reason="Recorded on the wrong session",
    )
    with pytest.raises(Conflict) as refused:
        services.adverse_event_follow_up(
            actor=team.nurse,
            session_id=session.pk,
            adverse_event_id=event.pk,
            outcome="resolved",
            note="n/a",
        )
    assert refused.value.code == "entered_in_error"
    page = world.web(world.staff["nurse"]).get(f"/sessions/{session.pk}/").content.decode()
    assert "Recorded on the wrong session" in page


def test_the_follow_up_page_action_records_it(world, team):
    session = _dosing(world, team)
    event = _event(team, session)
    response = world.web(world.staff["nurse"]).post(
        f"/sessions/{session.pk}/adverse-events/{event.pk}/follow-up/",
        {"outcome": "resolved", "note": "Settled after 20 minutes"},
    )
    assert response.status_code == 302
    assert event.follow_ups.get().outcome == "resolved"


def test_another_clinic_cannot_correct_a_reading(world, team):
    session = _dosing(world, team)
    entry = reading(team, session, systolic=120, diastolic=80, heart_rate=70, spo2=98)
    outsider = world.web(world.outsiders["nurse"])
    response = outsider.post(
        f"/sessions/{session.pk}/monitoring/{entry.pk}/entered-in-error/", {"reason": "sneaky!"}
    )
    assert response.status_code == 404
    assert MonitoringEntry.objects.get(pk=entry.pk).entered_in_error_at is None


def test_the_printable_summary_carries_no_alert_banner(world, team):
    session = _dosing(world, team)
    summary = world.web(world.staff["nurse"]).get(f"/sessions/{session.pk}/summary/")
    page = world.web(world.staff["nurse"]).get(f"/sessions/{session.pk}/")
    assert 'id="safety-banner"' not in summary.content.decode()
    assert 'id="safety-banner"' in page.content.decode()
