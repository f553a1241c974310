"""Every refusal code the session services can raise, triggered and asserted one by one.

Each test names its code in `refused(...) == "<code>"`; the refusal-code check in `make lint`
reads these to find codes that no test triggers.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.scheduling.models import Appointment, AppointmentKind, CourseStatus
from ketacare.treatment import selectors, services
from ketacare.treatment.models import MonitoringEntry, PreDoseCheck, TreatmentSession
from ketacare.treatment.services.alarm_policy import alarm_policy_set
from tests.factories import PatientFactory
from tests.scheduling.factories import appointment_row
from tests.treatment.factories import (
    check_in,
    course_of,
    fresh,
    key,
    order,
    pre_check,
    reading,
    start,
    todays_appointment,
    verify,
    walk_to,
)

pytestmark = pytest.mark.django_db


def refused(step: Callable[[], Any]) -> str:
    """The code of the refusal the step raises (it must raise one)."""
    with pytest.raises(KetaCareError) as error:
        step()
    return str(error.value.code)


def iv_session(world: Any, team: Any, stage: str | None = None) -> Any:
    session = check_in(team, PatientFactory(clinic=world.clinic_a), world.staff)
    return walk_to(team, session, stage) if stage else session


def esketamine_session(world: Any, team: Any, stage: str | None = None) -> Any:
    patient = PatientFactory(clinic=world.clinic_a)
    session = check_in(team, patient, world.staff, "esketamine_trd")
    return walk_to(team, session, stage) if stage else session


def change(team: Any, session: Any, **values: Any) -> Any:
    values.setdefault("reason", "as the prescriber asked")
    return services.infusion_change_record(
        actor=team.nurse, session_id=session.pk, idempotency_key=key(), **values
    )


def complete_now(team: Any, session: Any, **values: Any) -> Any:
    return services.administration_complete(
        actor=team.nurse, session_id=session.pk, idempotency_key=key(), **values
    )


# --- check-in ---------------------------------------------------------------------------------


def test_not_a_session(world, team):
    course = course_of(world.patient_a, world.staff)
    consult = appointment_row(course, None, clock.now(), kind=AppointmentKind.CONSULT)
    assert (
        refused(
            lambda: services.session_check_in(
                actor=team.nurse, idempotency_key=key(), appointment_id=consult.pk
            )
        )
        == "not_a_session"
    )


def test_appointment_status(world, team):
    course = course_of(world.patient_a, world.staff)
    no_show = appointment_row(course, None, clock.now(), status="no_show")
    assert (
        refused(
            lambda: services.session_check_in(
                actor=team.nurse, idempotency_key=key(), appointment_id=no_show.pk
            )
        )
        == "appointment_status"
    )


def test_not_today(world, team):
    course = course_of(world.patient_a, world.staff)
    tomorrow = appointment_row(course, None, clock.now() + timedelta(days=1))
    assert (
        refused(
            lambda: services.session_check_in(
                actor=team.nurse, idempotency_key=key(), appointment_id=tomorrow.pk
            )
        )
        == "not_today"
    )


def test_already_checked_in(world, team):
    appointment = todays_appointment(course_of(world.patient_a, world.staff))
    services.session_check_in(
        actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
    )
    Appointment.objects.filter(pk=appointment.pk).update(status="arrived")  # set back by hand
    assert (
        refused(
            lambda: services.session_check_in(
                actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
            )
        )
        == "already_checked_in"
    )


def test_session_open(world, team):
    course = course_of(world.patient_a, world.staff)
    services.session_check_in(actor=team.nurse, idempotency_key=key(), course_id=course.pk)
    assert (
        refused(
            lambda: services.session_check_in(
                actor=team.nurse, idempotency_key=key(), course_id=course.pk
            )
        )
        == "session_open"
    )


def test_required_appointment_or_course(world, team):
    assert (
        refused(lambda: services.session_check_in(actor=team.nurse, idempotency_key=key()))
        == "required"
    )


def test_course_not_active(world, team):
    course = course_of(world.patient_a, world.staff)
    course.status = CourseStatus.STOPPED
    course.end_reason = "patient moved"
    course.save()
    assert (
        refused(
            lambda: services.session_check_in(
                actor=team.nurse, idempotency_key=key(), course_id=course.pk
            )
        )
        == "course_not_active"
    )


def _dosed_days_ago(course: Any, staff: Any, days: int) -> None:
    """A past dosed session of the course, as a row (the schedule check reads dosing days)."""
    moment = clock.now() - timedelta(days=days)
    TreatmentSession.objects.create(
        clinic_id=course.clinic_id,
        patient=course.patient,
        course=course,
        protocol_id=course.protocol_id,
        protocol_version="2025.1",
        route=course.route,
        status="discharged",
        created_by=staff["nurse"],
        created_at=moment,
        checked_in_by=staff["nurse"],
        checked_in_at=moment,
        dosing_started_at=moment,
        dosing_ended_at=moment,
        discharged_at=moment,
    )


def _check_in_course(team: Any, course: Any) -> Any:
    return services.session_check_in(actor=team.nurse, idempotency_key=key(), course_id=course.pk)


def test_too_soon(world, team):
    course = course_of(world.patient_a, world.staff)
    _dosed_days_ago(course, world.staff, 1)
    assert refused(lambda: _check_in_course(team, course)) == "too_soon"


def test_too_many_in_week(world, team):
    # IV induction: at most 3 in any 7 days
    course = course_of(world.patient_a, world.staff)
    for days in (2, 4, 6):
        _dosed_days_ago(course, world.staff, days)
    assert refused(lambda: _check_in_course(team, course)) == "too_many_in_week"


def test_course_complete(world, team):
    course = course_of(world.patient_a, world.staff)
    for days in (20, 18, 16, 13, 11, 9):
        _dosed_days_ago(course, world.staff, days)
    assert refused(lambda: _check_in_course(team, course)) == "course_complete"


# --- pre-dose checks and the start decision -------------------------------------------------------


def test_choice_of_pregnancy_result(world, team):
    session = iv_session(world, team)
    assert refused(lambda: pre_check(team, session, pregnancy_test="maybe")) == "choice"


def test_weight_implausible_176_typed_after_68_kg(world, team):
    # At the chair: the chart said 68 kg three days ago; 176 was typed (pounds)
    session = iv_session(world, team)
    from ketacare.patients.services import measurement_record

    measurement_record(
        actor=team.nurse,
        patient_id=session.patient_id,
        measured_on=timezone.localdate() - timedelta(days=3),
        weight_kg=Decimal("68.0"),
    )
    assert refused(lambda: pre_check(team, session, weight_kg=Decimal("176"))) == (
        "weight_implausible"
    )
    assert not PreDoseCheck.objects.filter(session=session).exists()
    # typed with its unit, 176 lb is 79.8 kg: still more than 10% from 68 kg, so challenged too
    assert (
        refused(lambda: pre_check(team, session, weight_kg=Decimal("176"), weight_unit="lb"))
        == "weight_implausible"
    )
    # confirmed after re-weighing, it is kept with the challenge recorded
    check = pre_check(team, session, weight_kg=Decimal("150"), weight_unit="lb")
    assert check.weight_kg == Decimal("68.0") and check.weight_unit == "lb"


def test_implausible_vital_sign(world, team):
    session = iv_session(world, team)
    assert refused(lambda: pre_check(team, session, systolic=300, diastolic=200)) == ("implausible")


def test_height_needed(world, team):
    session = iv_session(world, team)
    assert refused(lambda: pre_check(team, session, height_cm=None)) == "height_needed"


def test_no_concern_and_nothing_to_decide_and_start_blocked(world, team):
    session = iv_session(world, team, "pre_checked")

    def decide(decision: str = "proceed") -> Any:
        return services.start_decision_record(
            actor=team.prescriber,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            decision=decision,
            reason="reviewed",
        )

    assert refused(decide) == "no_concern"
    assert refused(lambda: decide("maybe")) == "choice"
    reading(team, session, systolic=185, diastolic=100)
    assert refused(decide) == "start_blocked"


def test_start_needs_decision_and_start_not_cleared(world, team):
    session = iv_session(world, team, "verified")
    reading(team, session, systolic=150, diastolic=95)
    assert refused(lambda: start(team, session)) == "start_needs_decision"
    other = iv_session(world, team, "pre_checked")
    reading(team, other, systolic=150, diastolic=95)
    assert refused(lambda: order(team, other)) == "start_not_cleared"


def test_nothing_to_decide_without_a_reading(world, team):
    session = iv_session(world, team, "pre_checked")
    PreDoseCheck.objects.filter(session=session).update(
        concerns=[{"code": "not_fasting", "message": "Fasting not confirmed.", "blocking": False}]
    )
    MonitoringEntry.objects.filter(session=session).update(systolic=None, diastolic=None)
    assert (
        refused(
            lambda: services.start_decision_record(
                actor=team.prescriber,
                session_id=session.pk,
                version=fresh(session).version,
                idempotency_key=key(),
                decision="do_not_start",
                reason="reviewed",
            )
        )
        == "nothing_to_decide"
    )


# --- order and verification ---------------------------------------------------------------------


def test_no_order_to_verify_or_reject(world, team):
    session = iv_session(world, team, "pre_checked")
    assert refused(lambda: verify(team, session)) in ("no_order", "invalid_transition")
    fresh(session).status  # noqa: B018 - still pre-checked
    assert refused(
        lambda: services.dose_order_reject(
            actor=team.nurse,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            reason="x",
        )
    ) in ("no_order", "invalid_transition")


def test_order_changed_when_the_weight_no_longer_recomputes(world, team):
    session = iv_session(world, team, "ordered")
    PreDoseCheck.objects.filter(session=session).update(weight_kg=Decimal("90.0"))
    assert refused(lambda: verify(team, session)) == "order_changed"


def test_stale_version(world, team):
    session = iv_session(world, team, "pre_checked")
    assert (
        refused(
            lambda: services.dose_order_create(
                actor=team.prescriber,
                session_id=session.pk,
                version=fresh(session).version - 1,
                idempotency_key=key(),
                inputs={"concentration_mg_per_ml": "1", "container_volume_ml": "100"},
            )
        )
        == "stale_version"
    )


def test_invalid_transition(world, team):
    session = iv_session(world, team)
    assert refused(lambda: verify(team, session)) == "invalid_transition"


def test_no_pre_check_for_a_preview(world, team):
    session = iv_session(world, team)
    assert (
        refused(
            lambda: selectors.dose_plan_preview(
                actor=team.prescriber, session_id=session.pk, inputs={}
            )
        )
        == "no_pre_check"
    )


# --- giving the dose ------------------------------------------------------------------------------


def test_differs_from_order_and_required(world, team):
    session = iv_session(world, team, "verified")
    assert refused(lambda: start(team, session, rate_ml_per_h=Decimal("99.9"))) == (
        "differs_from_order"
    )
    assert refused(lambda: start(team, session, rate_ml_per_h=None)) == "required"
    assert refused(lambda: start(team, session, product="")) == "required"


def test_too_long(world, team):
    session = iv_session(world, team, "verified")
    assert refused(lambda: start(team, session, product="x" * 2001)) == "too_long"


def test_naive_future_and_too_early_times(world, team):
    session = iv_session(world, team, "verified")
    naive = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001 - the point of the test
    assert refused(lambda: start(team, session, started_at=naive)) == "naive_time"
    later = clock.now() + timedelta(hours=1)
    assert refused(lambda: start(team, session, started_at=later)) == "future_time"
    before = fresh(session).checked_in_at - timedelta(hours=1)
    assert refused(lambda: start(team, session, started_at=before)) == "too_early"


def test_route_devices_are_for_esketamine_and_completion_for_infusions(world, team):
    iv = iv_session(world, team, "dosing")
    assert (
        refused(
            lambda: services.esketamine_device_record(
                actor=team.nurse, session_id=iv.pk, version=fresh(iv).version, idempotency_key=key()
            )
        )
        == "route"
    )
    esk = esketamine_session(world, team, "dosing")
    assert refused(lambda: complete_now(team, esk)) == "route"


def test_rest_between_devices_and_all_devices_given(world, team):
    esk = esketamine_session(world, team, "dosing")

    def device() -> Any:
        return services.esketamine_device_record(
            actor=team.nurse, session_id=esk.pk, version=fresh(esk).version, idempotency_key=key()
        )

    assert refused(device) == "rest_between_devices"
    clock.travel(timedelta(minutes=5))
    device()  # the second of two devices ends the dosing
    assert fresh(esk).status == "observation"
    assert refused(device) == "invalid_status"


def test_all_devices_given_is_refused_by_the_core(world, team):
    from ketacare.clinical.timing import next_device

    check = next_device(ordered_devices=2, rest_min=5, given_at=[clock.now()] * 2, at=clock.now())
    assert check.code == "all_devices_given"


def test_invalid_status_not_an_infusion_and_invalid_change(world, team):
    esk = esketamine_session(world, team, "dosing")
    assert refused(lambda: change(team, esk, kind="pause")) == "not_an_infusion"
    iv = iv_session(world, team, "dosing")
    assert refused(lambda: change(team, iv, kind="resume")) == "invalid_change"
    assert refused(lambda: change(team, iv, kind="jump")) == "choice"
    assert refused(lambda: change(team, iv, kind="pause", reason="")) == "required"


def test_not_slower(world, team):
    iv = iv_session(world, team, "dosing")
    rate = fresh(iv).administration.current_rate_ml_per_h
    assert refused(lambda: change(team, iv, kind="slow", rate_ml_per_h=rate)) == "not_slower"
    assert refused(lambda: change(team, iv, kind="slow", rate_ml_per_h=None)) == "required"


def test_completed_too_early_a_100_ml_bag_after_2_minutes(world, team):
    # At the chair: a 100 mL bag at 150 mL/h was marked complete 2 minutes after it started
    session = iv_session(world, team, "verified")
    live = fresh(session).dose_orders.get(status="verified")
    start(team, session)
    clock.travel(timedelta(minutes=2))
    assert refused(lambda: complete_now(team, session)) == "completed_too_early"
    assert (
        refused(lambda: complete_now(team, session, volume_infused_ml=live.volume_ml))
        == "more_than_rate_allows"
    )
    assert (
        refused(lambda: complete_now(team, session, volume_infused_ml=live.volume_ml + 1))
        == "more_than_ordered"
    )
    change(team, session, kind="pause")
    assert refused(lambda: complete_now(team, session)) == "invalid_change"


# --- monitoring -----------------------------------------------------------------------------------


def test_incomplete_bp_empty_and_choice_of_dissociation(world, team):
    session = iv_session(world, team, "dosing")
    assert refused(lambda: reading(team, session, systolic=120)) == "incomplete_bp"
    assert refused(lambda: reading(team, session)) == "empty"
    assert refused(lambda: reading(team, session, dissociation="wild")) == "choice"


def test_no_alarm_already_recorded_and_choice_of_action(world, team):
    session = iv_session(world, team, "dosing")
    quiet = reading(team, session, heart_rate=70)
    alarm = reading(team, session, heart_rate=38)

    def act(entry: Any, action: str = "other") -> Any:
        return services.monitoring_action_record(
            actor=team.nurse,
            session_id=session.pk,
            monitoring_entry_id=entry.pk,
            idempotency_key=key(),
            action=action,
            note="atropine ready, prescriber at the chair",
        )

    assert refused(lambda: act(quiet)) == "no_alarm"
    assert refused(lambda: act(alarm, "shrug")) == "choice"
    act(alarm)
    assert refused(lambda: act(alarm)) == "already_recorded"


def test_choice_of_adverse_event(world, team):
    session = iv_session(world, team, "dosing")
    assert (
        refused(
            lambda: services.adverse_event_record(
                actor=team.nurse,
                session_id=session.pk,
                idempotency_key=key(),
                kind="unheard_of",
                severity="mild",
                outcome="resolved",
            )
        )
        == "choice"
    )


# --- discharge, records, keys --------------------------------------------------------------------


def test_discharge_refused_and_override_needs_prescriber(world, team):
    session = iv_session(world, team, "observation")

    def leave(by: Any, reason: str = "") -> Any:
        return services.discharge_record(
            actor=by,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            criteria={},
            override_reason=reason,
        )

    assert refused(lambda: leave(team.nurse)) == "discharge_refused"
    assert refused(lambda: leave(team.nurse, "the taxi is here")) == "override_needs_prescriber"


def test_not_esketamine_for_a_rems_record(world, team):
    session = iv_session(world, team)
    assert (
        refused(lambda: selectors.rems_record(actor=team.nurse, session_id=session.pk))
        == "not_esketamine"
    )


def test_idempotency_key_and_its_reuse(world, team):
    session = iv_session(world, team, "dosing")
    assert (
        refused(
            lambda: services.monitoring_entry_record(
                actor=team.nurse, session_id=session.pk, idempotency_key="short", heart_rate=70
            )
        )
        == "idempotency_key"
    )
    used = key()
    services.monitoring_entry_record(
        actor=team.nurse, session_id=session.pk, idempotency_key=used, heart_rate=70
    )
    assert (
        refused(
            lambda: services.infusion_change_record(
                actor=team.nurse,
                session_id=session.pk,
                idempotency_key=used,
                kind="pause",
                reason="x",
            )
        )
        == "idempotency_key_reused"
    )


def test_looser_than_default(world, team):
    from tests.treatment.factories import actor

    admin = actor(world.staff["admin"], world.clinic_a)
    assert (
        refused(
            lambda: alarm_policy_set(actor=admin, thresholds={"heart_rate_below": 40}, reason="x")
        )
        == "looser_than_default"
    )
    policy = alarm_policy_set(actor=admin, thresholds={"heart_rate_below": 55}, reason="tighter")
    assert policy.thresholds == {"heart_rate_below": 55}


def test_discharge_refused_after_esketamine_even_for_a_prescriber_with_a_reason(world, team):
    # At the chair: an esketamine patient was discharged 0 minutes after the last device when a
    # prescriber gave a reason
    session = esketamine_session(world, team, "observation")
    criteria = dict.fromkeys(
        (
            "sedation_resolved",
            "dissociation_resolved",
            "respiratory_depression_resolved",
            "vitals_acceptable",
            "transport_arranged",
        ),
        True,
    )
    with pytest.raises(KetaCareError) as error:
        services.discharge_record(
            actor=team.prescriber,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            criteria=criteria,
            ready_at=clock.now(),
            override_reason="feels fine, ride waiting",
        )
    assert error.value.code == "discharge_refused"
    assert "no reason overrides it" in str(error.value)
    assert fresh(session).status == "observation"
