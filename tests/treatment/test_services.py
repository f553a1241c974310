"""Session services: each step recorded with its time and person, and every refusal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.clinical.errors import HardStop, InvalidInput, ProtocolViolation
from ketacare.consent.services import consent_document_publish
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.outcomes.models import ScaleResponse
from ketacare.scheduling.models import ACTIVE_APPOINTMENT_STATUSES, AppointmentStatus
from ketacare.treatment import services
from ketacare.treatment.models import (
    Administration,
    AdministrationState,
    DoseOrder,
    DoseOrderStatus,
    MonitoringEntry,
    PreDoseCheck,
    SessionStatus,
    TreatmentSession,
)
from tests.treatment.factories import (
    CSSRS_NONE,
    all_criteria,
    check_in,
    complete,
    course_of,
    discharge,
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

S = SessionStatus


# --- a whole IV session --------------------------------------------------------------------------


def test_an_iv_session_runs_from_check_in_to_discharge_recording_who_and_when(
    world, team, session_clock
):
    # given a patient with today's appointment
    course = course_of(world.patient_a, world.staff)
    appointment = todays_appointment(course)
    # when the nurse checks her in and runs the session with the prescriber
    session = services.session_check_in(
        actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_SESSION
    check = pre_check(team, session)
    dose = order(team, session)
    verify(team, session)
    start(team, session)
    reading(team, session, systolic=130, diastolic=82, heart_rate=80, spo2=97, moaas=4)
    complete(team, session)
    session_clock.travel(timedelta(minutes=31))
    done = discharge(team, session)
    # then every step is recorded with the person who did it
    session = fresh(session)
    assert session.status == S.DISCHARGED
    assert session.checked_in_by == team.nurse.user
    assert check.recorded_by == team.nurse.user
    dose.refresh_from_db()
    assert dose.ordered_by == team.prescriber.user
    assert dose.verified_by == team.nurse.user
    assert dose.status == DoseOrderStatus.VERIFIED
    assert session.administration.started_by == team.nurse.user
    assert session.administration.state == AdministrationState.COMPLETED
    assert done.discharged_by == team.nurse.user
    assert done.override_by is None
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED


def test_the_order_stores_the_cores_plan_with_every_step(world, team):
    # given a pre-checked 70 kg patient
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session)
    # when the prescriber orders 0.5 mg/kg at 1 mg/mL in a 100 mL bag over the protocol's 40 min
    dose = order(team, session)
    # then the numbers are the core's and the working is kept
    assert dose.dose_mg == Decimal("35.0")
    assert dose.volume_ml == Decimal("35.0")
    assert dose.rate_ml_per_h == Decimal("52.5")
    assert dose.duration_min == Decimal("40")
    assert dose.dosing_weight_kg == Decimal("70.0")
    assert [step["label"] for step in dose.plan["steps"]][:2] == ["Actual weight", "Dose"] or any(
        step["label"] == "Pump rate" for step in dose.plan["steps"]
    )
    assert dose.plan["dose_mg"] == "35.0"


def test_pre_dose_scales_are_stored_as_session_scale_responses(world, team):
    # given a checked-in session
    session = check_in(team, world.patient_a, world.staff)
    # when the nurse records the checks with a PHQ-9 and a C-SSRS
    check = pre_check(team, session)
    # then both are scale responses scored by the core, from the session
    assert check.phq9.instrument_id == "phq9" and check.phq9.total == 8
    assert check.phq9.band == "mild"
    assert check.cssrs.instrument_id == "cssrs_screen" and check.cssrs.band == "none"
    assert set(
        ScaleResponse.objects.filter(patient=world.patient_a).values_list("source", flat=True)
    ) == {"session"}


def test_a_high_risk_c_ssrs_in_the_pre_dose_checks_opens_a_safety_alert(world, team):
    from ketacare.outcomes.models import SafetyAlert

    # given a checked-in session
    session = check_in(team, world.patient_a, world.staff)
    # when the screener finds intent with a plan
    check = pre_check(team, session, cssrs_answers=[True, True, True, True, True, False])
    # then outcomes opens a safety alert on that response, and the start waits for a prescriber
    alert = SafetyAlert.objects.get(patient=world.patient_a)
    assert alert.code == "cssrs_high" and alert.response_id == check.cssrs_id
    assert "cssrs_high" in [c["code"] for c in check.concerns]


# --- refusals: the start ------------------------------------------------------------------------


def test_dosing_cannot_start_with_blood_pressure_over_the_block_limit(world, team):
    # given a verified order, and then a blood pressure of 185/112 before the start
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "verified")
    reading(team, session, systolic=185, diastolic=112)
    # when the nurse tries to start
    with pytest.raises(Refused) as refused:
        start(team, session)
    # then it is refused, and nothing was given
    assert refused.value.code == "start_blocked"
    assert "180/110" in refused.value.message
    assert not Administration.objects.filter(session=session).exists()
    assert fresh(session).status == S.VERIFIED


def test_a_blocked_start_cannot_be_overridden_even_by_a_prescriber(world, team):
    # given a pre-dose blood pressure of 190/100
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, systolic=190, diastolic=100)
    # when the prescriber tries to proceed with a reason
    with pytest.raises(Refused) as refused:
        services.start_decision_record(
            actor=team.prescriber,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            decision="proceed",
            reason="Patient anxious, usually lower",
        )
    # then it is refused
    assert refused.value.code == "start_blocked"


def test_a_recheck_within_limits_lifts_a_blocked_start(world, team):
    # given a pre-dose blood pressure of 182/95, then a recheck of 128/80
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, systolic=182, diastolic=95)
    reading(team, session, systolic=128, diastolic=80)
    # when the prescriber orders and it is verified
    order(team, session)
    verify(team, session)
    # then dosing may start
    start(team, session)
    assert fresh(session).status == S.DOSING


def test_blood_pressure_needing_a_recheck_holds_the_order_until_a_prescriber_decides(world, team):
    # given 150/92 before dosing
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, systolic=150, diastolic=92)
    # then no order can be written yet
    with pytest.raises(Refused) as refused:
        order(team, session)
    assert refused.value.code == "start_not_cleared"
    # when the prescriber decides to proceed, with a reason
    decision = services.start_decision_record(
        actor=team.prescriber,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
        decision="proceed",
        reason="Rechecked 148/90 after rest; baseline 145/88 at screening.",
    )
    # then the order and the start go ahead, and the decision is kept
    order(team, session)
    verify(team, session)
    start(team, session)
    assert decision.decided_by == team.prescriber.user
    assert [c["code"] for c in decision.concerns] == ["bp_recheck"]


def test_a_new_reading_still_over_the_recheck_limit_needs_a_new_decision(world, team):
    # given a decision to proceed at 150/92, a verified order, then 158/96 before the start
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, systolic=150, diastolic=92)
    services.start_decision_record(
        actor=team.prescriber,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
        decision="proceed",
        reason="Known white-coat hypertension.",
    )
    order(team, session)
    verify(team, session)
    reading(team, session, systolic=158, diastolic=96)
    # when the nurse starts
    with pytest.raises(Refused) as refused:
        start(team, session)
    # then the prescriber must decide on the new reading
    assert refused.value.code == "start_needs_decision"


def test_a_nurse_cannot_make_the_start_decision(world, team):
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, systolic=150, diastolic=92)
    with pytest.raises(PermissionDenied):
        services.start_decision_record(
            actor=team.nurse,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            decision="proceed",
            reason="x",
        )


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"fasting_confirmed": False}, "not_fasting"),
        ({"escort_confirmed": False}, "no_escort"),
        (
            {"medication_changes": True, "medication_changes_note": "started lorazepam"},
            "medication_changes",
        ),
        ({"cssrs_answers": [True, True, True, False, False, False]}, "cssrs_moderate"),
        ({"phq9_answers": [1, 1, 1, 1, 1, 1, 1, 1, 2]}, "suicidality"),
    ],
)
def test_checklist_findings_hold_the_start_until_a_prescriber_decides(world, team, overrides, code):
    # given a finding in the pre-dose checks
    session = check_in(team, world.patient_a, world.staff)
    check = pre_check(team, session, **overrides)
    # then it is kept with the check and the order waits for a decision
    assert code in [c["code"] for c in check.concerns]
    with pytest.raises(Refused):
        order(team, session)


def test_a_positive_pregnancy_test_blocks_the_start_whatever_the_decision(world, team):
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, pregnancy_test="positive")
    with pytest.raises(Refused) as refused:
        services.start_decision_record(
            actor=team.prescriber,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            decision="proceed",
            reason="x",
        )
    assert refused.value.code == "start_blocked"


def test_a_decision_not_to_dose_ends_the_session(world, team):
    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, systolic=190, diastolic=112)
    services.start_decision_record(
        actor=team.prescriber,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
        decision="do_not_start",
        reason="Hypertensive; refer to GP, rebook next week.",
    )
    session = fresh(session)
    assert session.status == S.CANCELLED
    assert "refer to GP" in session.cancel_reason


# --- refusals: the dose -------------------------------------------------------------------------


def test_a_dose_above_the_hard_stop_is_refused_whatever_the_reason(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "pre_checked")
    with pytest.raises(HardStop):
        order(
            team,
            session,
            mg_per_kg=Decimal("1.2"),
            concentration_mg_per_ml=Decimal("1"),
            container_volume_ml=Decimal("100"),
            override_reason="Previous response only at higher dose",
        )
    assert not DoseOrder.objects.filter(session=session).exists()


def test_undiluted_100_mg_per_ml_is_a_hard_stop_for_iv(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "pre_checked")
    with pytest.raises(HardStop):
        order(
            team,
            session,
            mg_per_kg=Decimal("0.5"),
            concentration_mg_per_ml=Decimal("100"),
            container_volume_ml=Decimal("10"),
        )


def test_a_dose_above_the_protocols_range_needs_the_prescribers_reason(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "pre_checked")
    above = {
        "mg_per_kg": Decimal("0.8"),
        "concentration_mg_per_ml": Decimal("1"),
        "container_volume_ml": Decimal("100"),
    }
    with pytest.raises(ProtocolViolation) as violation:
        order(team, session, **above)
    assert violation.value.code == "above_range"
    dose = order(team, session, **above, override_reason="Partial response at 0.75 mg/kg")
    assert dose.override_reason == "Partial response at 0.75 mg/kg"
    assert [w["code"] for w in dose.warnings] == ["above_range"]


def test_a_nurse_cannot_order_a_dose(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "pre_checked")
    with pytest.raises(PermissionDenied):
        order(team, session, by=team.nurse)


def test_the_orderer_cannot_verify_their_own_order(world, team):
    # given the prescriber's order
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "ordered")
    # when the same prescriber tries to verify it
    with pytest.raises(Refused) as refused:
        verify(team, session, by=team.prescriber)
    # then it is refused and the order still waits
    assert refused.value.code == "same_person"
    assert fresh(session).status == S.ORDERED


def test_the_database_refuses_an_order_verified_by_its_orderer(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "ordered")
    dose = DoseOrder.objects.get(session=session)
    with pytest.raises(IntegrityError), transaction.atomic():
        DoseOrder.objects.filter(pk=dose.pk).update(
            verified_by=dose.ordered_by, verified_at=clock.now()
        )


def test_administration_without_a_verification_is_refused(world, team):
    # given an order nobody has verified
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "ordered")
    dose = DoseOrder.objects.get(session=session)
    # when the nurse tries to start
    with pytest.raises(Refused) as refused:
        services.administration_start(
            actor=team.nurse,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            product="Ketamine",
            lot="L1",
            concentration_mg_per_ml=dose.concentration_mg_per_ml,
            volume_ml=dose.volume_ml,
            rate_ml_per_h=dose.rate_ml_per_h,
        )
    # then nothing is given
    assert refused.value.code == "not_verified"
    assert not Administration.objects.filter(session=session).exists()


def test_a_second_prescriber_may_verify(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "ordered")
    verified = verify(team, session, by=team.second_prescriber)
    assert verified.verified_by == team.second_prescriber.user


def test_a_pump_rate_other_than_the_verified_one_is_refused(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "verified")
    with pytest.raises(Refused) as refused:
        start(team, session, rate_ml_per_h=Decimal("80"))
    assert refused.value.field == "rate_ml_per_h"
    assert refused.value.code == "differs_from_order"


def test_a_rejected_order_goes_back_to_the_prescriber(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "ordered")
    services.dose_order_reject(
        actor=team.nurse,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
        reason="Bag volume wrong",
    )
    assert fresh(session).status == S.PRE_CHECKED
    order(team, session)
    assert DoseOrder.objects.filter(session=session).count() == 2


# --- monitoring ---------------------------------------------------------------------------------


def test_a_reading_outside_the_limits_carries_the_cores_alarm_and_action(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    entry = reading(team, session, systolic=122, diastolic=80, spo2=89)
    assert [a["code"] for a in entry.alarms] == ["spo2_low"]
    assert entry.alarms[0]["action"] == "Pause dosing and call the prescriber."
    assert entry.phase == "dosing"


def test_pausing_for_an_alarm_pauses_the_infusion_with_the_alarm_as_reason(world, team):
    # given a low SpO2 during the infusion
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    entry = reading(team, session, spo2=89)
    # when the nurse records "paused" as the action
    services.monitoring_action_record(
        actor=team.nurse,
        session_id=session.pk,
        monitoring_entry_id=entry.pk,
        idempotency_key=key(),
        action="paused",
        note="Chin lift, O2 2 L",
    )
    # then the infusion is paused, with the reason
    administration = Administration.objects.get(session=session)
    assert administration.state == AdministrationState.PAUSED
    change = administration.changes.get()
    assert change.kind == "pause" and "SpO2 89%" in change.reason
    entry.refresh_from_db()
    assert entry.action == "paused" and entry.action_by == team.nurse.user


def test_slowing_needs_a_lower_rate_and_stopping_starts_the_observation(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    with pytest.raises(Refused):
        services.infusion_change_record(
            actor=team.nurse,
            session_id=session.pk,
            idempotency_key=key(),
            kind="slow",
            reason="BP rising",
            rate_ml_per_h=Decimal("60"),
        )
    services.infusion_change_record(
        actor=team.nurse,
        session_id=session.pk,
        idempotency_key=key(),
        kind="slow",
        reason="BP rising",
        rate_ml_per_h=Decimal("30"),
    )
    services.infusion_change_record(
        actor=team.nurse,
        session_id=session.pk,
        idempotency_key=key(),
        kind="stop",
        reason="Intolerable dissociation",
    )
    session = fresh(session)
    assert session.status == S.OBSERVATION
    assert session.administration.state == AdministrationState.STOPPED
    assert session.administration.current_rate_ml_per_h == Decimal("30")


def test_a_change_needs_a_reason(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    with pytest.raises(Refused) as refused:
        services.infusion_change_record(
            actor=team.nurse, session_id=session.pk, idempotency_key=key(), kind="pause", reason=""
        )
    assert refused.value.field == "reason"


def test_a_reading_in_the_future_is_refused(world, team, session_clock):
    session = check_in(team, world.patient_a, world.staff)
    with pytest.raises(Refused) as refused:
        reading(
            team, session, systolic=120, diastolic=80, taken_at=clock.now() + timedelta(hours=1)
        )
    assert refused.value.code == "future_time"


def test_a_half_blood_pressure_is_refused(world, team):
    session = check_in(team, world.patient_a, world.staff)
    with pytest.raises(Refused):
        reading(team, session, systolic=120)


# --- discharge ----------------------------------------------------------------------------------


def test_discharge_is_refused_before_the_minimum_observation(world, team, session_clock):
    # given an IV infusion that ended 10 minutes ago
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    session_clock.travel(timedelta(minutes=10))
    # when the nurse discharges with every criterion met
    with pytest.raises(Refused) as refused:
        discharge(team, session)
    # then it is refused with the time left, and the session stays in observation
    assert refused.value.code == "discharge_refused"
    assert "20 of the minimum 30 minutes" in refused.value.message
    assert fresh(session).status == S.OBSERVATION


def test_discharge_is_refused_with_a_criterion_unmet(world, team, session_clock):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    session_clock.travel(timedelta(minutes=45))
    criteria = {**all_criteria(session), "walking_steadily": False}
    with pytest.raises(Refused) as refused:
        discharge(team, session, criteria=criteria)
    assert "walking_steadily" in refused.value.message


def test_a_nurse_cannot_override_an_early_discharge(world, team, session_clock):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    with pytest.raises(Refused) as refused:
        discharge(team, session, override_reason="Patient insists on leaving")
    assert refused.value.code == "override_needs_prescriber"


def test_a_prescriber_may_discharge_early_recording_why(world, team, session_clock):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    session_clock.travel(timedelta(minutes=12))
    done = discharge(
        team,
        session,
        by=team.prescriber,
        override_reason="Leaving against advice; escort present, vitals at baseline.",
    )
    assert done.override_by == team.prescriber.user
    assert done.discharge_check["remaining_minutes"] == 18
    assert fresh(session).status == S.DISCHARGED


def test_an_unanswered_alarm_holds_the_discharge(world, team, session_clock):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    reading(team, session, spo2=90)
    session_clock.travel(timedelta(minutes=40))
    with pytest.raises(Refused) as refused:
        discharge(team, session)
    assert "no action recorded" in refused.value.message


def test_esketamine_discharge_waits_two_hours_after_the_last_device(world, team, session_clock):
    # given an esketamine session whose last device was used 90 minutes ago
    session = check_in(team, world.patient_a, world.staff, "esketamine_trd")
    walk_to(team, session, "observation")
    session_clock.travel(timedelta(minutes=90))
    # then discharge is refused, and allowed after 2 hours
    with pytest.raises(Refused):
        discharge(team, session)
    session_clock.travel(timedelta(minutes=31))
    done = discharge(team, session)
    assert done.observed_minutes >= 120


# --- esketamine devices -------------------------------------------------------------------------


def test_the_next_device_is_refused_before_the_labels_rest(world, team, session_clock):
    # given the first of two devices just used
    session = check_in(team, world.patient_a, world.staff, "esketamine_trd")
    walk_to(team, session, "dosing")
    # when the nurse records the second after 3 minutes
    session_clock.travel(timedelta(minutes=3))
    with pytest.raises(Refused) as refused:
        services.esketamine_device_record(
            actor=team.nurse,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
        )
    # then it is refused; after 5 minutes it is recorded and dosing ends
    assert refused.value.code == "rest_between_devices"
    session_clock.travel(timedelta(minutes=2))
    device = services.esketamine_device_record(
        actor=team.nurse,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
    )
    assert device.number == 2
    assert fresh(session).status == S.OBSERVATION


def test_an_esketamine_dose_above_84_mg_is_a_hard_stop(world, team):
    session = check_in(team, world.patient_a, world.staff, "esketamine_trd")
    pre_check(team, session)
    with pytest.raises(HardStop):
        order(team, session, dose_mg=112, override_reason="x")


def test_the_first_esketamine_dose_other_than_56_mg_needs_a_reason(world, team):
    session = check_in(team, world.patient_a, world.staff, "esketamine_trd")
    pre_check(team, session)
    with pytest.raises(ProtocolViolation) as violation:
        order(team, session, dose_mg=84)
    assert violation.value.code == "label_first_dose"


# --- recorded once, never overwritten -----------------------------------------------------------


def test_a_retried_reading_is_recorded_once(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    same = key()
    first = services.monitoring_entry_record(
        actor=team.nurse, session_id=session.pk, idempotency_key=same, systolic=130, diastolic=80
    )
    again = services.monitoring_entry_record(
        actor=team.nurse, session_id=session.pk, idempotency_key=same, systolic=130, diastolic=80
    )
    assert again.pk == first.pk
    assert MonitoringEntry.objects.filter(session=session, phase="dosing").count() == 1


def test_a_retried_pre_dose_check_returns_the_first_even_with_the_old_version(world, team):
    session = check_in(team, world.patient_a, world.staff)
    same = key()
    arguments = {
        "actor": team.nurse,
        "session_id": session.pk,
        "version": session.version,
        "idempotency_key": same,
        "weight_kg": Decimal("70"),
        "height_cm": Decimal("168"),
        "systolic": 120,
        "diastolic": 80,
        "heart_rate": 70,
        "spo2": 98,
        "fasting_confirmed": True,
        "escort_confirmed": True,
        "pregnancy_test": "not_required",
        "medication_changes": False,
        "phq9_answers": [0] * 9,
        "cssrs_answers": CSSRS_NONE,
    }
    first = services.predose_check_record(**arguments)
    again = services.predose_check_record(**arguments)
    assert again.pk == first.pk
    assert PreDoseCheck.objects.filter(session=session).count() == 1
    assert ScaleResponse.objects.filter(patient=world.patient_a).count() == 2


def test_a_retried_check_in_returns_the_same_session(world, team):
    appointment = todays_appointment(course_of(world.patient_a, world.staff))
    same = key()
    first = services.session_check_in(
        actor=team.nurse, idempotency_key=same, appointment_id=appointment.pk
    )
    again = services.session_check_in(
        actor=team.nurse, idempotency_key=same, appointment_id=appointment.pk
    )
    assert first.pk == again.pk
    assert TreatmentSession.objects.count() == 1


def test_a_key_reused_for_another_step_is_refused(world, team):
    session = check_in(team, world.patient_a, world.staff)
    same = key()
    services.monitoring_entry_record(
        actor=team.nurse, session_id=session.pk, idempotency_key=same, systolic=120, diastolic=80
    )
    with pytest.raises(Conflict):
        services.session_cancel(
            actor=team.nurse,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=same,
            reason="x",
        )


def test_a_decision_on_a_stale_version_is_refused(world, team):
    # given two clinicians who opened the session at the same version
    session = check_in(team, world.patient_a, world.staff)
    seen = session.version
    pre_check(team, session)
    # when the second saves a cancel made on the old view
    with pytest.raises(Conflict) as conflict:
        services.session_cancel(
            actor=team.nurse,
            session_id=session.pk,
            version=seen,
            idempotency_key=key(),
            reason="Patient left",
        )
    # then it is refused, not applied over the first
    assert conflict.value.field == "version"
    assert fresh(session).status == S.PRE_CHECKED


def test_readings_by_two_nurses_never_block_each_other(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    reading(team, session, systolic=120, diastolic=80)
    reading(team, session, systolic=124, diastolic=82, by=team.second_prescriber)
    assert MonitoringEntry.objects.filter(session=session, phase="dosing").count() == 2


def test_an_idempotency_key_must_look_like_one(world, team):
    session = check_in(team, world.patient_a, world.staff)
    with pytest.raises(Refused) as refused:
        services.monitoring_entry_record(
            actor=team.nurse, session_id=session.pk, idempotency_key="x", systolic=1, diastolic=1
        )
    assert refused.value.field == "idempotency_key"


# --- check-in -----------------------------------------------------------------------------------


def test_a_second_open_session_for_the_patient_is_refused(world, team):
    check_in(team, world.patient_a, world.staff)
    with pytest.raises(Conflict) as conflict:
        check_in(team, world.patient_a, world.staff)
    assert conflict.value.code == "session_open"


def test_check_in_is_refused_without_consent_in_force(world, team):
    course = course_of(world.patient_a, world.staff)
    course.consent.withdrawn_at = clock.now()
    course.consent.withdrawn_reason = "Changed her mind"
    course.consent.save()
    with pytest.raises(Refused) as refused:
        services.session_check_in(
            actor=team.nurse,
            idempotency_key=key(),
            appointment_id=todays_appointment(course).pk,
        )
    assert refused.value.code == "no_consent"


def test_check_in_refuses_another_clinics_appointment(world, team):
    from django.http import Http404

    from tests.treatment.factories import Team

    theirs = todays_appointment(course_of(world.patient_b, world.outsiders))
    with pytest.raises(Http404):
        services.session_check_in(actor=team.nurse, idempotency_key=key(), appointment_id=theirs.pk)
    assert Team  # the outsiders' team is not needed: the lookup is by clinic


def test_check_in_applies_the_protocols_spacing(world, team, session_clock):
    # given a session dosed today
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    session_clock.travel(timedelta(minutes=40))
    discharge(team, session)
    # when the nurse checks in again for the same course today
    with pytest.raises(Refused) as refused:
        services.session_check_in(
            actor=team.nurse, idempotency_key=key(), course_id=session.course_id
        )
    # then the core's too-soon rule refuses it
    assert refused.value.code == "too_soon"


def test_a_missing_height_is_asked_for_when_the_dosing_weight_needs_it(world, team):
    session = check_in(team, world.patient_a, world.staff)
    with pytest.raises(Refused) as refused:
        pre_check(team, session, height_cm=None)
    assert refused.value.field == "height_cm"


def test_todays_weight_goes_to_the_chart(world, team):
    from ketacare.patients.selectors import latest_height_cm, latest_weight_kg

    session = check_in(team, world.patient_a, world.staff)
    pre_check(team, session, weight_kg=Decimal("71.4"))
    assert latest_weight_kg(patient=world.patient_a) == Decimal("71.4")
    assert latest_height_cm(patient=world.patient_a) == Decimal("170.0")


def test_invalid_weight_is_refused_by_the_core(world, team):
    session = check_in(team, world.patient_a, world.staff)
    with pytest.raises(InvalidInput) as invalid:
        pre_check(team, session, weight_kg=Decimal("700"))
    assert invalid.value.field == "weight_kg"


def test_a_session_cancelled_before_dosing_frees_the_chair_and_does_not_count(world, team):
    # given a checked-in session whose appointment is in progress
    session = check_in(team, world.patient_a, world.staff)
    # when the nurse ends it before any dose
    services.session_cancel(
        actor=team.nurse,
        session_id=session.pk,
        version=fresh(session).version,
        idempotency_key=key(),
        reason="Patient felt unwell and went home",
    )
    # then the appointment says so, and it no longer occupies the chair or the course
    appointment = fresh(session).appointment
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NOT_DOSED
    assert appointment.status not in ACTIVE_APPOINTMENT_STATUSES


def test_check_in_asks_for_re_consent_after_a_new_consent_text(world, team):
    # given a course started on the IV consent, then a new IV consent text published
    course = course_of(world.patient_a, world.staff)
    signed = course.consent.document_version
    admin = Actor(user=world.staff["admin"], clinic=world.clinic_a, role=Role.ADMIN)
    consent_document_publish(
        actor=admin,
        route="iv",
        title=signed.document.title,
        body=signed.body + "\n\nNew paragraph on driving after treatment.",
        based_on=signed.number,
    )
    # when the nurse checks the patient in for the next session
    with pytest.raises(Refused) as refused:
        services.session_check_in(
            actor=team.nurse, idempotency_key=key(), appointment_id=todays_appointment(course).pk
        )
    # then the session does not start until the patient consents to the new text
    assert refused.value.code == "reconsent_needed"
    assert not TreatmentSession.objects.filter(course=course).exists()
