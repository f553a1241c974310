"""Safety alerts: opened with the response in one transaction, never lost, never deleted,
open → acknowledged → resolved with a note, every change audited."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.clinical.outcomes import load_outcome_rules
from ketacare.errors import Conflict, Refused
from ketacare.outcomes import services
from ketacare.outcomes.models import NeverDeleted, ResponseSource, SafetyAlert, ScaleResponse
from tests.outcomes.factories import phq9_answers, response_row, suicidality_alert

pytestmark = pytest.mark.django_db


def _actor(world, role, clinic=None):
    user = world.staff[role] if clinic is None else world.outsiders[role]
    return Actor(user=user, clinic=clinic or world.clinic_a, role=Role(role))


def _record(world, instrument_id, answers, *, role="nurse", at=None):
    return services.scale_response_record(
        actor=_actor(world, role),
        patient=world.patient_a,
        instrument_id=instrument_id,
        answers=answers,
        source=ResponseSource.STAFF,
        recorded_at=at,
    )


def test_item_nine_above_zero_opens_a_same_day_suicidality_alert(world):
    recorded = _record(world, "phq9", phq9_answers(9, item9=1))
    [alert] = recorded.alerts
    assert (alert.code, alert.severity, alert.status) == ("suicidality", "same_day", "open")
    assert alert.evidence["item"] == 9 and alert.evidence["item_answer"] == 1
    assert alert.evidence["response_ids"] == [recorded.response.pk]
    assert alert.clinic == world.clinic_a and alert.patient == world.patient_a


def test_item_nine_at_zero_opens_no_alert(world):
    assert _record(world, "phq9", phq9_answers(20, item9=0)).alerts == []


@pytest.mark.parametrize(
    ("answers", "code", "severity"),
    [
        ([True, True, True, False, False, False], "cssrs_moderate", "same_day"),
        ([True, True, True, True, False, False], "cssrs_high", "immediate"),
        ([False, False, False, False, False, True, True], "cssrs_high", "immediate"),
    ],
)
def test_cssrs_moderate_or_high_opens_an_alert(world, answers, code, severity):
    [alert] = _record(world, "cssrs_screen", answers).alerts
    assert (alert.code, alert.severity) == (code, severity)


def test_cssrs_low_opens_no_alert(world):
    assert _record(world, "cssrs_screen", [True, False, False, False, False, False]).alerts == []


def test_a_large_rise_between_two_scores_opens_a_deterioration_alert(world):
    # given a PHQ-9 of 6 a week ago, and the core's threshold for a large rise
    rise = load_outcome_rules().deterioration["phq9"].min_rise
    response_row(world.patient_a, "phq9", phq9_answers(6), timezone.now() - timedelta(days=7))
    # when today's score is that much higher
    recorded = _record(world, "phq9", phq9_answers(6 + rise))
    # then a deterioration alert opens with both scores as evidence
    [alert] = recorded.alerts
    assert alert.code == "deterioration" and alert.severity == "review"
    assert alert.evidence["totals"] == [6, 6 + rise]


def test_a_rise_just_below_the_cores_threshold_opens_nothing(world):
    rise = load_outcome_rules().deterioration["phq9"].min_rise
    response_row(world.patient_a, "phq9", phq9_answers(6), timezone.now() - timedelta(days=7))
    assert _record(world, "phq9", phq9_answers(6 + rise - 1)).alerts == []


def test_the_alert_and_the_response_are_written_together_or_not_at_all(world):
    # given the alert cannot be written (e.g. the database refuses)
    with (
        mock.patch.object(SafetyAlert.objects, "get_or_create", side_effect=IntegrityError("x")),
        pytest.raises(IntegrityError),
    ):
        _record(world, "phq9", phq9_answers(10, item9=2))
    # then the response was not kept either: an alert can never be lost between the two
    assert not ScaleResponse.objects.exists()


def test_raising_twice_for_one_response_opens_one_alert(world):
    recorded = _record(world, "phq9", phq9_answers(10, item9=2))
    again = services.alerts_raise_for_response(response=recorded.response)
    assert again == [] and SafetyAlert.objects.count() == 1


def test_an_alert_is_never_deleted(world):
    alert = suicidality_alert(world.patient_a)
    with pytest.raises(NeverDeleted):
        alert.delete()
    with pytest.raises(NeverDeleted):
        SafetyAlert.objects.filter(pk=alert.pk).delete()
    assert SafetyAlert.objects.filter(pk=alert.pk).exists()


def test_an_alert_goes_open_acknowledged_assigned_resolved_and_each_step_is_audited(world):
    alert = suicidality_alert(world.patient_a)
    nurse, prescriber = _actor(world, "nurse"), _actor(world, "prescriber")
    # acknowledge: the nurse owns it
    alert = services.alert_acknowledge(actor=nurse, alert_id=alert.pk, version=alert.version)
    assert alert.status == "acknowledged" and alert.assigned_to == world.staff["nurse"]
    # assign to the prescriber
    alert = services.alert_assign(
        actor=nurse,
        alert_id=alert.pk,
        version=alert.version,
        assignee_id=world.staff["prescriber"].pk,
    )
    assert alert.assigned_to == world.staff["prescriber"]
    # resolve with a note
    alert = services.alert_resolve(
        actor=prescriber, alert_id=alert.pk, version=alert.version, note="Called; safety plan."
    )
    assert alert.status == "resolved" and alert.resolved_by == world.staff["prescriber"]
    assert alert.version == 4
    changes = list(
        AuditEntry.objects.filter(object_type="safety_alert", object_id=str(alert.pk))
        .order_by("seq")
        .values_list("action", "actor_username", "detail__change")
    )
    assert changes == [
        ("create", "patient-portal", None),
        ("update", "a.nurse", "acknowledge"),
        ("update", "a.nurse", "assign"),
        ("update", "a.prescriber", "resolve"),
    ]


def test_an_open_alert_cannot_be_resolved_before_someone_acknowledges_it(world):
    alert = suicidality_alert(world.patient_a)
    with pytest.raises(Conflict, match="Acknowledge"):
        services.alert_resolve(
            actor=_actor(world, "nurse"), alert_id=alert.pk, version=1, note="done"
        )


def test_resolving_needs_a_note(world):
    nurse = _actor(world, "nurse")
    alert = suicidality_alert(world.patient_a)
    alert = services.alert_acknowledge(actor=nurse, alert_id=alert.pk, version=1)
    with pytest.raises(Refused, match="note"):
        services.alert_resolve(actor=nurse, alert_id=alert.pk, version=alert.version, note="  ")


def test_two_nurses_acknowledging_at_once_one_is_told_it_changed(world):
    alert = suicidality_alert(world.patient_a)
    services.alert_acknowledge(actor=_actor(world, "nurse"), alert_id=alert.pk, version=1)
    with pytest.raises(Conflict):
        services.alert_acknowledge(actor=_actor(world, "prescriber"), alert_id=alert.pk, version=1)


def test_an_alert_can_be_assigned_only_to_a_colleague_who_may_manage_alerts(world):
    alert = suicidality_alert(world.patient_a)
    nurse = _actor(world, "nurse")
    for user in (world.staff["front_desk"], world.outsiders["nurse"]):
        with pytest.raises(Refused):
            services.alert_assign(actor=nurse, alert_id=alert.pk, version=1, assignee_id=user.pk)


def test_a_resolved_alert_cannot_be_reassigned(world):
    nurse = _actor(world, "nurse")
    alert = suicidality_alert(world.patient_a)
    alert = services.alert_acknowledge(actor=nurse, alert_id=alert.pk, version=1)
    alert = services.alert_resolve(actor=nurse, alert_id=alert.pk, version=2, note="Seen today.")
    with pytest.raises(Conflict):
        services.alert_assign(
            actor=nurse, alert_id=alert.pk, version=3, assignee_id=world.staff["therapist"].pk
        )


def test_another_clinic_cannot_touch_an_alert(world):
    from django.http import Http404

    alert = suicidality_alert(world.patient_a)
    outsider = _actor(world, "nurse", clinic=world.clinic_b)
    with pytest.raises(Http404):
        services.alert_acknowledge(actor=outsider, alert_id=alert.pk, version=1)


@pytest.mark.django_db(transaction=True)
def test_an_alert_raised_while_the_worker_is_stopped_is_there_when_it_starts(world):
    # given a patient submits while no worker runs: the alert is stored, its notice queued
    world.staff["nurse"].email = "nurse@clinic-a.example"
    world.staff["nurse"].save()
    alert = suicidality_alert(world.patient_a)
    assert mail.outbox == []
    # when the worker starts (a fresh connection, as after a restart) and works its queue
    from django.db import connections

    connections.close_all()
    call_command("ketacare_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    # then the alert is still open, unchanged but for the notice, and staff were told once
    stored = SafetyAlert.objects.get(pk=alert.pk)
    assert stored.status == "open" and stored.version == 1
    assert stored.staff_notified_at is not None
    notices = [m for m in mail.outbox if "safety alert" in m.subject]
    assert len(notices) == 1 and notices[0].to == ["nurse@clinic-a.example"]
    assert world.patient_a.family_name not in notices[0].body  # no patient data in e-mail
    # and the nurse's pages show it until someone acknowledges it
    banner = world.web(world.staff["nurse"]).get("/outcomes/alerts/banner/")
    assert b"1 open safety alert" in banner.content
    # a second run sends nothing more
    call_command("ketacare_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert len([m for m in mail.outbox if "safety alert" in m.subject]) == 1
