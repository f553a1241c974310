"""The worker: which questionnaires go out when (clinic policy), each sent once, even by two
workers at the same time; reminders; missed questionnaires visible to staff."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Refused
from ketacare.followup import dispatch, policy, services
from ketacare.followup.policy import DEFAULT_POLICY
from ketacare.outcomes.models import (
    AssignmentStatus,
    QuestionnaireAssignment,
    QuestionnaireDelivery,
)
from ketacare.scheduling.models import Course
from tests.factories import PatientFactory
from tests.outcomes.factories import assignment_row
from tests.scheduling.factories import ChairFactory, appointment_row, course_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outcome_scales_only(monkeypatch):
    """These tests are about the outcome scales' policy; the recovery screens a newly registered
    patient is also sent have their own tests (tests/recovery/test_screen_dispatch.py)."""
    monkeypatch.setattr(dispatch, "_PLANNERS", [])


def _slots(patient):
    return sorted(
        QuestionnaireAssignment.objects.filter(patient=patient).values_list("instrument_id", "slot")
    )


def _started(course, days_ago):
    Course.objects.filter(pk=course.pk).update(
        started_on=timezone.localdate() - timedelta(days=days_ago)
    )
    course.refresh_from_db()
    return course


def test_the_questionnaires_before_a_session_open_a_day_ahead(world):
    # given a session booked for tomorrow and one next week
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    now = timezone.now()
    soon = appointment_row(course, chair, now + timedelta(hours=20))
    appointment_row(course, chair, now + timedelta(days=6))
    # when the worker plans
    dispatch.assignments_plan(now=now)
    # then tomorrow's is asked for, by the portal only for what a patient answers alone
    # (the C-SSRS screener is clinician-administered, asked at the chair)
    assert _slots(world.patient_a) == [("phq9", f"appointment:{soon.pk}")]
    assignment = QuestionnaireAssignment.objects.get()
    assert assignment.due_by == soon.starts_at
    assert assignment.opens_at == soon.starts_at - timedelta(
        hours=DEFAULT_POLICY.before_session_lead_hours
    )


def test_planning_twice_plans_once(world):
    course = _started(course_row(world.patient_a, world.staff), days_ago=8)
    now = timezone.now()
    dispatch.assignments_plan(now=now)
    dispatch.assignments_plan(now=now + timedelta(minutes=5))
    week = f"course:{course.pk}:every:7d:1"
    assert _slots(world.patient_a) == [("gad7", week), ("phq9", week)]


def test_a_cancelled_session_cancels_its_questionnaire(world):
    course = course_row(world.patient_a, world.staff)
    appointment = appointment_row(
        course, ChairFactory(clinic=world.clinic_a), timezone.now() + timedelta(hours=3)
    )
    dispatch.assignments_plan(now=timezone.now())
    appointment.status = "cancelled"
    appointment.cancel_reason = "patient unwell"
    appointment.save()
    dispatch.assignments_cancel_for_cancelled_sessions()
    assert QuestionnaireAssignment.objects.get().status == AssignmentStatus.CANCELLED


def test_after_a_course_follow_up_is_weekly_then_monthly(world):
    # given a course that ended 15 days ago (week 2 of follow-up) at 09:00 clinic time
    course = course_row(
        world.patient_a, world.staff, status="completed", end_reason="six sessions given"
    )
    ended = timezone.now() - timedelta(days=15)
    Course.objects.filter(pk=course.pk).update(ended_at=ended)
    # when the worker plans at week 2, and again at two months
    dispatch.assignments_plan(now=timezone.now())
    weekly = DEFAULT_POLICY.after_course_weekly_count
    dispatch.assignments_plan(now=ended + timedelta(days=weekly * 7 + 30, hours=12))
    # then week 2 and month 1 were asked
    slots = {slot for _, slot in _slots(world.patient_a)}
    assert slots == {f"after:{course.pk}:week:2", f"after:{course.pk}:month:1"}


def test_a_new_course_takes_over_follow_up_from_the_last(world):
    old = course_row(world.patient_a, world.staff, status="completed", end_reason="complete")
    Course.objects.filter(pk=old.pk).update(
        ended_at=timezone.now() - timedelta(days=8),
        started_on=timezone.localdate() - timedelta(days=30),
    )
    course_row(world.patient_a, world.staff, kind="booster")  # started today
    dispatch.assignments_plan(now=timezone.now())
    assert not QuestionnaireAssignment.objects.filter(slot__startswith="after:").exists()


def test_a_clinics_own_policy_replaces_the_defaults(world):
    admin = Actor(user=world.staff["admin"], clinic=world.clinic_a, role=Role.ADMIN)
    values = {
        "before_session_instruments": ["phq9"],
        "during_course_instruments": ["pcl5"],
        "after_course_instruments": ["phq9"],
        "during_course_every_days": 3,
    }
    services.questionnaire_policy_save(actor=admin, protocol_id="", version=None, values=values)
    _started(course_row(world.patient_a, world.staff), days_ago=4)
    dispatch.assignments_plan(now=timezone.now())
    assert [i for i, _ in _slots(world.patient_a)] == ["pcl5"]


def test_the_worker_sends_one_email_per_patient_with_a_link_to_all_their_questionnaires(world):
    assignment_row(world.patient_a, "phq9")
    assignment_row(world.patient_a, "gad7")
    invitations, _ = dispatch.questionnaires_send(now=timezone.now())
    assert invitations == 2
    [message] = mail.outbox
    assert message.to == [world.patient_a.email]
    assert "/portal/" in message.body and "2 short questionnaires" in message.body
    assert world.patient_a.family_name not in message.body
    # a second pass sends nothing
    assert dispatch.questionnaires_send(now=timezone.now()) == (0, 0)
    assert len(mail.outbox) == 1


def test_a_patient_without_email_is_left_for_the_front_desk(world):
    patient = PatientFactory(clinic=world.clinic_a, email="")
    assignment_row(patient)
    assert dispatch.questionnaires_send(now=timezone.now()) == (0, 0)
    assert not QuestionnaireDelivery.objects.exists()


def test_one_reminder_goes_out_after_a_day_unanswered(world):
    assignment_row(world.patient_a, opens_at=timezone.now() - timedelta(hours=1))
    now = timezone.now()
    dispatch.questionnaires_send(now=now)
    assert dispatch.questionnaires_send(now=now + timedelta(hours=2)) == (0, 0)
    later = now + timedelta(hours=DEFAULT_POLICY.reminder_after_hours, minutes=1)
    assert dispatch.questionnaires_send(now=later) == (0, 1)
    assert dispatch.questionnaires_send(now=later + timedelta(hours=1)) == (0, 0)
    assert [m.subject.startswith("Reminder") for m in mail.outbox] == [False, True]


def test_a_failed_email_is_not_counted_as_sent_and_goes_out_next_time(world, monkeypatch):
    assignment_row(world.patient_a)

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(dispatch, "send_mail", broken)
    assert dispatch.questionnaires_send(now=timezone.now()) == (0, 0)
    assert not QuestionnaireDelivery.objects.exists()
    monkeypatch.undo()
    assert dispatch.questionnaires_send(now=timezone.now()) == (1, 0)


def test_missed_questionnaires_are_visible_to_staff(world):
    assignment_row(
        world.patient_a,
        opens_at=timezone.now() - timedelta(days=5),
        due_by=timezone.now() - timedelta(days=2),
    )
    page = world.web(world.staff["nurse"]).get("/outcomes/overdue/")
    assert page.status_code == 200 and world.patient_a.family_name.encode() in page.content
    assert b"PHQ-9" in page.content


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_questionnaire_once(world):
    # given ten patients, each with two questionnaires due
    patients = [PatientFactory(clinic=world.clinic_a) for _ in range(10)]
    for patient in patients:
        assignment_row(patient, "phq9")
        assignment_row(patient, "gad7")
    now = timezone.now()
    start = threading.Barrier(2)
    results, errors = [], []

    def worker(name):
        try:
            start.wait(timeout=10)
            results.append(dispatch.questionnaires_send(now=now, worker=name))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when two workers send at the same moment
    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then every questionnaire went out exactly once, one e-mail per patient
    assert errors == []
    assert sum(invites for invites, _ in results) == 20
    assert QuestionnaireDelivery.objects.filter(kind="invite").count() == 20
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in patients)


def test_a_protocols_own_schedule_wins_over_the_clinics(world):
    admin = Actor(user=world.staff["admin"], clinic=world.clinic_a, role=Role.ADMIN)
    services.questionnaire_policy_save(
        actor=admin,
        protocol_id="",
        version=None,
        values={"during_course_instruments": ["gad7"]},
    )
    services.questionnaire_policy_save(
        actor=admin,
        protocol_id="esketamine_trd",
        version=None,
        values={"during_course_instruments": ["pcl5"]},
    )
    _started(
        course_row(world.patient_a, world.staff, protocol_id="esketamine_trd", route="esketamine"),
        days_ago=8,
    )
    other = PatientFactory(clinic=world.clinic_a)
    _started(course_row(other, world.staff), days_ago=8)
    dispatch.assignments_plan(now=timezone.now())
    assert [i for i, _ in _slots(world.patient_a)] == ["pcl5"]
    assert [i for i, _ in _slots(other)] == ["gad7"]


def test_a_link_whose_only_questionnaire_was_cancelled_is_used_up(world):
    from ketacare.outcomes.models import PortalLink
    from tests.outcomes.factories import link_for

    course = course_row(world.patient_a, world.staff)
    appointment = appointment_row(
        course, ChairFactory(clinic=world.clinic_a), timezone.now() + timedelta(hours=3)
    )
    dispatch.assignments_plan(now=timezone.now())
    issued = link_for(world.patient_a, list(QuestionnaireAssignment.objects.all()))
    appointment.status, appointment.cancel_reason = "cancelled", "patient unwell"
    appointment.save()
    dispatch.assignments_cancel_for_cancelled_sessions()
    assert PortalLink.objects.get(pk=issued.link.pk).used_at is not None


def test_a_scale_whose_wording_is_not_held_is_never_sent_to_patients(world):
    # given a clinic that tries to send QIDS-SR16, whose official wording the core does not hold
    admin = Actor(user=world.staff["admin"], clinic=world.clinic_a, role=Role.ADMIN)
    values = {
        "before_session_instruments": ["phq9"],
        "during_course_instruments": ["qids_sr16"],
        "after_course_instruments": ["phq9"],
    }
    # when the schedule is saved, then it is refused naming the field
    with pytest.raises(Refused) as refused:
        services.questionnaire_policy_save(actor=admin, protocol_id="", version=None, values=values)
    assert refused.value.field == "during_course_instruments"
    assert "qids_sr16" not in policy.portal_instruments()
