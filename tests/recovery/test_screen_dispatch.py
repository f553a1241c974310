"""The dispatch pass sends the recovery screens on the core's schedule: at intake for every
patient, monthly in an at-home programme, and on a protocol that names them; the portal lets
the patient answer them, and the answer is a scale response the misuse signals read."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.athome.models import HomeProgramme
from ketacare.clinical import screens as core
from ketacare.followup import dispatch
from ketacare.followup.policy import portal_screens
from ketacare.followup.portal import pending_portal_assignments, portal_submit
from ketacare.kernel.clinic_time import clinic_zone, local_date
from ketacare.outcomes.models import (
    AssignmentStatus,
    AssignmentTrigger,
    QuestionnaireAssignment,
    ScaleResponse,
)
from ketacare.patients.models import Patient
from tests.scheduling.factories import course_row

pytestmark = pytest.mark.django_db


def _screens(patient):
    return sorted(
        QuestionnaireAssignment.objects.filter(
            patient=patient, trigger=AssignmentTrigger.SCREEN
        ).values_list("instrument_id", "slot")
    )


def _registered(patient, days_ago):
    Patient.objects.filter(pk=patient.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )


def _home(world, patient, started_on):
    return HomeProgramme.objects.create(
        clinic=world.clinic_a, patient=patient, evaluation_on=started_on,
        evaluation_modality="audio_video", consent_signature_id=0, dose_mg=50, doses_planned=8,
        started_on=started_on, sitter_name="Sam Sitter", enrolled_by=world.staff["nurse"],
        enrolled_at=timezone.now(),
    )  # fmt: skip


def _today(world):
    return local_date(timezone.now(), clinic_zone(world.clinic_a))


def test_portal_sends_the_screens_a_patient_answers_alone():
    # DAST-10 keeps item labels only; the withdrawal checklist is the clinician's
    assert set(portal_screens()) == {"audit_c", "craving_nrs", "ketamine_bladder_checklist"}


def test_a_newly_registered_patient_is_sent_the_intake_screens(world):
    # given patient A registered today (the world made them now)
    # when the worker plans, twice
    dispatch.assignments_plan(now=timezone.now())
    dispatch.assignments_plan(now=timezone.now() + timedelta(minutes=5))
    # then the intake screens the portal can send are asked once each
    assert _screens(world.patient_a) == [
        ("audit_c", "screen:intake"),
        ("craving_nrs", "screen:intake"),
        ("ketamine_bladder_checklist", "screen:intake"),
    ]
    assignment = QuestionnaireAssignment.objects.filter(slot="screen:intake").first()
    assert assignment.due_by - assignment.opens_at == timedelta(
        days=core.load_screen_schedule().window_days
    )


def test_a_patient_registered_long_ago_gets_no_intake_screens(world):
    _registered(world.patient_a, days_ago=40)
    dispatch.assignments_plan(now=timezone.now())
    assert _screens(world.patient_a) == []


def test_an_at_home_patient_is_sent_the_screens_every_month(world):
    # given patient A registered long ago and at home for 31 days
    _registered(world.patient_a, days_ago=90)
    home = _home(world, world.patient_a, _today(world) - timedelta(days=31))
    # when the worker plans
    dispatch.assignments_plan(now=timezone.now())
    # then the first month's screens are asked
    slot = f"screen:athome:{home.pk}:every:30d:1"
    assert _screens(world.patient_a) == [
        ("audit_c", slot),
        ("craving_nrs", slot),
        ("ketamine_bladder_checklist", slot),
    ]


def test_an_ended_at_home_programme_asks_nothing(world):
    _registered(world.patient_a, days_ago=90)
    home = _home(world, world.patient_a, _today(world) - timedelta(days=31))
    HomeProgramme.objects.filter(pk=home.pk).update(status="ended")
    dispatch.assignments_plan(now=timezone.now())
    assert _screens(world.patient_a) == []


def test_a_course_on_a_protocol_that_names_screens_asks_them(world, monkeypatch):
    # given a clinic schedule that asks the craving rating fortnightly on the IV induction
    _registered(world.patient_a, days_ago=90)
    base = core.load_screen_schedule()
    rule = core.ScreenRule(("craving_nrs",), 14, base.at_home.citation)
    schedule = core.ScreenSchedule(
        base.intake, base.at_home, {"iv_induction_6x": rule}, base.window_days, base.citation
    )
    monkeypatch.setattr(core, "load_screen_schedule", lambda: schedule)
    course = course_row(world.patient_a, world.staff, protocol_id="iv_induction_6x")
    course.started_on = _today(world) - timedelta(days=15)
    course.save(update_fields=["started_on"])
    # when the worker plans
    dispatch.assignments_plan(now=timezone.now())
    # then the course's fortnightly screen is asked, tied to the course
    slot = f"screen:course:{course.pk}:every:14d:1"
    assert _screens(world.patient_a) == [("craving_nrs", slot)]
    assert QuestionnaireAssignment.objects.get(slot=slot).course_id == course.pk


def test_planning_for_one_clinic_leaves_the_other_alone(world):
    dispatch.assignments_plan(now=timezone.now(), clinic_ids=[world.clinic_b.pk])
    assert _screens(world.patient_a) == []


def test_the_patient_answers_a_screen_in_the_portal(world):
    # given the intake screens planned and open
    now = timezone.now()
    dispatch.assignments_plan(now=now)
    later = now + timedelta(days=1)
    open_ones = pending_portal_assignments(patient=world.patient_a, now=later)
    craving = next(a for a in open_ones if a.instrument_id == "craving_nrs")
    link = dispatch.portal_link_issue(
        actor=None, patient=world.patient_a, purpose="questionnaires", assignments=open_ones,
        channel="email", expires_at=later + timedelta(days=2), now=later,
    ).link  # fmt: skip
    craving.draft_answers = {"craving_week": 6}
    craving.save(update_fields=["draft_answers"])
    # when the patient sends it
    portal_submit(link=link, assignment_pk=craving.pk, now=later, client_address=None)
    # then it is a portal response the signals read, and the screen is done
    response = ScaleResponse.objects.get(patient=world.patient_a, instrument_id="craving_nrs")
    assert (response.total, response.source) == (6, "portal")
    craving.refresh_from_db()
    assert craving.status == AssignmentStatus.COMPLETED
