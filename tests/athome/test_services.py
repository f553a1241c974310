"""The at-home programme's services: every gate's refusal, the sitter bound to one patient,
alerts staff see, supply that reconciles, and the facts misuse signals read."""

# One refusal per line reads as a table of code and call; the formatter cannot wrap a lambda.
# ruff: noqa: E501

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketacare.athome import selectors, services
from ketacare.athome.models import DoseStatus, HomeProgramme, RefillDecision, SupplyKind
from ketacare.errors import Refused
from ketacare.outcomes.models import AlertStatus, SafetyAlert
from tests.athome.conftest import (
    GOOD_GATE,
    QUIET_TRACKER,
    actor,
    enrol,
    key,
    prescribe,
    ready_for_home,
    screen_eligible,
    sign_agreement,
    take_a_dose,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def refused(call, code=None):
    """The refusal the call raises (asserting its code when given)."""
    with pytest.raises(Refused) as caught:
        call()
    if code is not None:
        assert caught.value.code == code, caught.value.message
    return caught.value


# --- enrolment ------------------------------------------------------------------------------


def test_enrolment_needs_the_signed_programme_agreement(world):
    call = lambda: services.programme_enrol(  # noqa: E731
        actor=actor(world, "nurse"), patient_id=world.patient_a.pk, evaluation_on=date(2026, 11, 1),
        evaluation_modality="audio_video", sitter_name="Sam", idempotency_key=key(),
    )  # fmt: skip
    error = refused(call)
    assert (error.code, error.field) == ("consent_missing", "consent")


def test_enrolment_refuses_a_second_programme_a_future_evaluation_and_a_bad_modality(world):
    enrol(world)
    values = {
        "actor": actor(world, "nurse"), "patient_id": world.patient_a.pk,
        "evaluation_on": date(2026, 11, 1), "evaluation_modality": "audio_video",
        "sitter_name": "Sam",
    }  # fmt: skip
    assert (
        refused(lambda: services.programme_enrol(**values, idempotency_key=key())).code
        == "already_enrolled"
    )
    future = {**values, "evaluation_on": date(2030, 1, 1)}
    assert (
        refused(lambda: services.programme_enrol(**future, idempotency_key=key())).code
        == "in_the_future"
    )
    bad = {**values, "evaluation_modality": "carrier_pigeon"}
    assert refused(lambda: services.programme_enrol(**bad, idempotency_key=key())).code == "invalid"
    other = {**values, "patient_id": world.patient_b.pk}
    assert (
        refused(lambda: services.programme_enrol(**other, idempotency_key=key())).code
        == "not_found"
    )


def _enrol_values(world):
    return {
        "actor": actor(world, "nurse"), "patient_id": world.patient_a.pk,
        "evaluation_on": date(2026, 11, 1), "evaluation_modality": "audio_video",
        "sitter_name": "Sam",
    }  # fmt: skip


def test_enrolment_needs_a_screening_for_the_route(world):
    sign_agreement(world, world.patient_a)
    values = _enrol_values(world)
    error = refused(lambda: services.programme_enrol(**values, idempotency_key=key()))
    assert error.code == "screening_missing"
    assert error.field == "screening"
    # a screening for another route does not count
    from tests.scheduling.factories import screening_for

    screening_for(world.patient_a, world.staff["prescriber"], route="iv")
    error = refused(lambda: services.programme_enrol(**values, idempotency_key=key()))
    assert error.code == "screening_missing"
    assert not HomeProgramme.objects.exists()


def test_enrolment_refuses_an_unsigned_screening(world):
    sign_agreement(world, world.patient_a)
    screen_eligible(world, world.patient_a, signed=False)
    error = refused(lambda: services.programme_enrol(**_enrol_values(world), idempotency_key=key()))
    assert error.code == "screening_unsigned"


def test_a_screening_signed_over_its_cautions_admits_to_the_chair_but_not_to_home(world):
    from ketacare.clinical.readiness import screening_blockers
    from ketacare.screening.selectors import screening_facts_of

    sign_agreement(world, world.patient_a)
    reviewed = screen_eligible(
        world, world.patient_a, status="needs review", reason="Reviewed the caution with her."
    )
    # the clinic may treat on it, where the dose is watched
    assert screening_blockers(screening_facts_of(reviewed), route="sublingual") == ()
    # but not at home
    error = refused(lambda: services.programme_enrol(**_enrol_values(world), idempotency_key=key()))
    assert error.code == "home_screening_not_eligible"
    assert error.field == "screening" and "no clinician watches" in error.message
    assert not HomeProgramme.objects.exists()


def test_an_ineligible_screening_co_signed_still_refuses_home(world):
    sign_agreement(world, world.patient_a)
    screen_eligible(
        world, world.patient_a, status="ineligible", reason="Two prescribers agreed.",
        cosigner=world.staff["admin"],  # any second signer: the core reads only "co-signed"
    )  # fmt: skip
    error = refused(lambda: services.programme_enrol(**_enrol_values(world), idempotency_key=key()))
    assert error.code == "home_screening_not_eligible"


def test_enrolment_refuses_a_screening_whose_facts_changed(world):
    sign_agreement(world, world.patient_a)
    screen_eligible(
        world, world.patient_a, facts={"age": 1}, facts_used=["age"]
    )  # the chart's age now differs from the snapshot
    error = refused(lambda: services.programme_enrol(**_enrol_values(world), idempotency_key=key()))
    assert error.code == "screening_out_of_date"


def test_enrolment_records_the_screening_it_rested_on(world):
    programme = enrol(world)
    from ketacare.screening.models import Screening

    screening = Screening.objects.get(patient=world.patient_a, route="sublingual")
    assert programme.screening_id == screening.pk


def test_enrolment_replays_by_its_key_and_starts_at_the_protocol_dose(world):
    ready_for_home(world, world.patient_a)
    values = {
        "actor": actor(world, "nurse"), "patient_id": world.patient_a.pk,
        "evaluation_on": date(2026, 11, 1), "evaluation_modality": "in_person",
        "sitter_name": "Sam", "idempotency_key": "enrol-once-123",
    }  # fmt: skip
    first = services.programme_enrol(**values)
    assert services.programme_enrol(**values).pk == first.pk
    assert (first.dose_mg, first.doses_planned) == (
        50,
        8,
    )  # sublingual_home: 50 mg start, 8 sessions


def test_a_front_desk_member_cannot_enrol(world):
    from ketacare.accounts.access import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.programme_enrol(
            actor=actor(world, "front_desk"), patient_id=world.patient_a.pk,
            evaluation_on=date(2026, 11, 1), evaluation_modality="in_person", sitter_name="Sam",
            idempotency_key=key(),
        )  # fmt: skip


# --- prescriptions --------------------------------------------------------------------------


def test_a_video_prescription_dated_31_december_2026_is_signed_and_one_dated_2027_is_refused(world):
    programme = enrol(world)
    signed = prescribe(world, programme, issued_on=date(2026, 12, 31))
    assert signed.rules_period == "flexibilities_through_2026"
    assert len(signed.content_sha256) == 64
    error = refused(lambda: prescribe(world, programme, issued_on=date(2027, 1, 1)))
    assert error.code == "rx_legal_basis_not_allowed"
    assert "In-person" in error.message


def test_from_2027_a_prescription_with_an_in_person_evaluation_is_signed(world):
    programme = enrol(world)
    signed = prescribe(
        world, programme, issued_on=date(2027, 1, 4), legal_basis="in_person_evaluation",
        in_person_evaluation_on=date(2026, 12, 20),
    )  # fmt: skip
    assert signed.rules_period == "from_2027"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"pdmp_checked_on": None}, "rx_pdmp_check_missing"),
        ({"pdmp_result": "findings"}, "rx_pdmp_findings_unreviewed"),
        ({"patient_state": "NY"}, "rx_dea_registration_not_for_state"),
        ({"dea_registration": ""}, "rx_dea_registration_not_for_state"),
        ({"visit_modality": "audio_only"}, "rx_modality_not_allowed"),
        ({"legal_basis": ""}, "rx_legal_basis_missing"),
        ({"strength_mg": "30"}, "dose_not_whole_units"),
        ({"strength_mg": "abc"}, "invalid"),
        ({"quantity": 0}, "invalid"),
        ({"pharmacy": " "}, "required"),
    ],
)
def test_each_prescription_refusal_has_its_code(world, change, code):
    programme = enrol(world)
    assert refused(lambda: prescribe(world, programme, **change)).code == code


def test_pdmp_findings_with_the_prescribers_review_are_signed_and_queryable(world):
    programme = enrol(world)
    prescribe(
        world,
        programme,
        pdmp_result="findings",
        pdmp_review="Two earlier benzodiazepine fills; discussed.",
    )
    assert programme.prescriptions.filter(pdmp_result="findings").count() == 1


def test_a_nurse_cannot_sign_a_prescription(world):
    from ketacare.accounts.access import PermissionDenied

    programme = enrol(world)
    with pytest.raises(PermissionDenied):
        services.prescription_issue(
            actor=actor(world, "nurse"), programme_id=programme.pk, idempotency_key=key(),
            issued_on=date(2026, 12, 1), drug="x", strength_mg="50", form="x", quantity=1,
            directions="x", refills=0, pharmacy="x", visit_modality="audio_video",
            patient_state="CA", dea_registration="AB1", dea_registration_state="CA",
            in_person_evaluation_on=None, pdmp_checked_on=date(2026, 12, 1),
            pdmp_result="no_findings", legal_basis="telemedicine_flexibility",
        )  # fmt: skip


def test_a_prescription_is_signed_only_with_the_prescribers_password_or_pin_again(world):
    from ketacare.athome.models import HomePrescription
    from tests.athome.conftest import RX

    programme = enrol(world)
    day = date(2026, 12, 1)
    error = refused(
        lambda: services.prescription_issue(
            actor=actor(world, "prescriber"),
            programme_id=programme.pk,
            idempotency_key=key(),
            **{**RX, "issued_on": day, "pdmp_checked_on": day},
        )  # fmt: skip
    )
    assert error.code == "reauth_required"
    assert error.field == "signing_secret"
    assert not HomePrescription.objects.exists()


def test_another_clinics_programme_is_not_found(world):
    programme = enrol(world)
    outsider = actor(world, "prescriber", world.clinic_b)
    assert (
        refused(
            lambda: services.dose_step_decide(
                actor=outsider, programme_id=programme.pk, dose_mg="75", reason="x"
            )
        ).code
        == "not_found"
    )


# --- the dose loop --------------------------------------------------------------------------


def test_patient_and_sitter_pass_the_gate_take_the_dose_and_fill_the_tracker(home):
    dose = take_a_dose(home)
    assert dose.status == DoseStatus.TRACKED
    assert dose.sitter_attested_at is not None
    assert selectors.supply_of(home.programme.pk).left == 3


def test_the_next_dose_stays_locked_until_the_tracker_is_in(home, session_clock):
    dose = take_a_dose(home, tracker=None)
    session_clock.travel(timedelta(days=7))
    assert (
        refused(lambda: services.home_dose_open(link=home.patient_link)).code
        == "home_tracker_missing"
    )
    services.home_dose_tracker_submit(
        link=home.patient_link, dose_id=dose.pk, answers=QUIET_TRACKER
    )
    assert services.home_dose_open(link=home.patient_link).number == 2


def test_the_next_dose_is_not_released_within_the_protocols_interval(home, session_clock):
    take_a_dose(home)
    session_clock.travel(timedelta(days=6))
    assert refused(lambda: services.home_dose_open(link=home.patient_link)).code == "home_too_soon"


def test_a_sitter_cannot_attest_for_another_patients_session(world, home):
    # given a second patient in the programme with their own dose open
    other = PatientFactory(clinic=world.clinic_a)
    other_programme = enrol(world, other)
    prescribe(world, other_programme)
    services.supply_dispense(
        actor=actor(world, "nurse"), programme_id=other_programme.pk, idempotency_key=key()
    )
    other_link, _ = services.programme_links_issue(
        actor=actor(world, "nurse"), programme_id=other_programme.pk
    )
    other_dose = services.home_dose_open(link=other_link.link)
    # when the first patient's sitter tries to attest for it
    assert (
        refused(
            lambda: services.home_dose_sitter_attest(link=home.sitter_link, dose_id=other_dose.pk)
        ).code
        == "dose_of_another_patient"
    )
    # then that dose is still unattested, and the patient's own link cannot attest at all
    other_dose.refresh_from_db()
    assert other_dose.sitter_attested_at is None
    assert (
        refused(
            lambda: services.home_dose_sitter_attest(link=other_link.link, dose_id=other_dose.pk)
        ).code
        == "wrong_link"
    )


def test_the_gate_waits_for_the_sitter(home):
    dose = services.home_dose_open(link=home.patient_link)
    assert (
        refused(
            lambda: services.home_dose_gate(link=home.patient_link, dose_id=dose.pk, **GOOD_GATE)
        ).code
        == "home_sitter_not_attested"
    )
    dose.refresh_from_db()
    assert dose.status == DoseStatus.OPEN  # put right on the spot, then check again


def test_a_bp_of_172_over_98_blocks_the_dose_and_raises_an_alert_staff_see(world, home):
    dose = services.home_dose_open(link=home.patient_link)
    services.home_dose_sitter_attest(link=home.sitter_link, dose_id=dose.pk)
    dose = services.home_dose_gate(
        link=home.patient_link, dose_id=dose.pk, **{**GOOD_GATE, "systolic": 172, "diastolic": 98}
    )
    assert dose.status == DoseStatus.BLOCKED
    assert dose.gate_codes == ["home_bp_above_limit"]
    alert = SafetyAlert.objects.get(patient=world.patient_a)
    assert alert.code == "home_bp_above_limit"
    assert alert.severity == "same_day"
    assert alert.response is None
    assert "172/98" in alert.meaning
    from ketacare.outcomes.selectors import alert_list

    assert [a.pk for a in alert_list(actor=actor(world, "nurse"))] == [alert.pk]
    take = lambda: services.home_dose_take(link=home.patient_link, dose_id=dose.pk)  # noqa: E731
    assert refused(take).code == "gate_not_passed"


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"heart_rate": 104}, "home_heart_rate_above_limit", DoseStatus.BLOCKED),
        ({"fasting": False}, "home_not_fasting", DoseStatus.BLOCKED),
        ({"no_alcohol_or_substances": False}, "home_alcohol_or_substances", DoseStatus.BLOCKED),
        ({"safe_place": False}, "home_place_not_safe", DoseStatus.BLOCKED),
        ({"safe_place": None}, "home_check_unanswered", DoseStatus.OPEN),
        ({"systolic": None}, "home_vitals_missing", DoseStatus.OPEN),
        ({"systolic": 400}, "home_vitals_implausible", DoseStatus.OPEN),
    ],
)
def test_each_gate_refusal_is_kept_or_asked_again(home, change, code, status):
    dose = services.home_dose_open(link=home.patient_link)
    services.home_dose_sitter_attest(link=home.sitter_link, dose_id=dose.pk)
    values = {**GOOD_GATE, **change}
    if status == DoseStatus.OPEN:
        assert (
            refused(
                lambda: services.home_dose_gate(link=home.patient_link, dose_id=dose.pk, **values)
            ).code
            == code
        )
    else:
        dose = services.home_dose_gate(link=home.patient_link, dose_id=dose.pk, **values)
        assert dose.gate_codes == [code]
    dose.refresh_from_db()
    assert dose.status == status


def test_a_red_flag_opens_an_alert_and_holds_the_next_dose_until_resolved(
    world, home, session_clock
):
    from ketacare.outcomes import services as outcomes

    take_a_dose(home, tracker={**QUIET_TRACKER, "use_outside_plan": 1})
    alert = SafetyAlert.objects.get(patient=world.patient_a)
    assert alert.code == "home_use_outside_plan"
    session_clock.travel(timedelta(days=7))
    assert (
        refused(lambda: services.home_dose_open(link=home.patient_link)).code
        == "home_red_flag_open"
    )
    nurse = actor(world, "nurse")
    alert = outcomes.alert_acknowledge(actor=nurse, alert_id=alert.pk, version=alert.version)
    outcomes.alert_resolve(
        actor=nurse, alert_id=alert.pk, version=alert.version, note="Called; reviewed plan."
    )
    assert SafetyAlert.objects.get(pk=alert.pk).status == AlertStatus.RESOLVED
    assert services.home_dose_open(link=home.patient_link).number == 2


def test_an_incomplete_tracker_is_refused_and_a_second_one_is_not_due(home):
    dose = take_a_dose(home, tracker=None)
    assert (
        refused(
            lambda: services.home_dose_tracker_submit(
                link=home.patient_link, dose_id=dose.pk, answers={"mood": 1}
            )
        ).code
        == "tracker_incomplete"
    )
    services.home_dose_tracker_submit(
        link=home.patient_link, dose_id=dose.pk, answers=QUIET_TRACKER
    )
    assert (
        refused(
            lambda: services.home_dose_tracker_submit(
                link=home.patient_link, dose_id=dose.pk, answers=QUIET_TRACKER
            )
        ).code
        == "tracker_not_due"
    )


def test_only_the_patients_link_opens_and_checks_a_dose(home):
    assert refused(lambda: services.home_dose_open(link=home.sitter_link)).code == "wrong_link"
    dose = services.home_dose_open(link=home.patient_link)
    assert (
        refused(
            lambda: services.home_dose_gate(link=home.sitter_link, dose_id=dose.pk, **GOOD_GATE)
        ).code
        == "wrong_link"
    )
    assert (
        refused(lambda: services.home_dose_take(link=home.sitter_link, dose_id=dose.pk)).code
        == "wrong_link"
    )
    assert (
        refused(
            lambda: services.home_dose_tracker_submit(
                link=home.sitter_link, dose_id=dose.pk, answers={}
            )
        ).code
        == "wrong_link"
    )


def test_the_sitter_cannot_attest_once_the_gate_is_checked_and_a_dose_is_not_taken_twice(home):
    dose = take_a_dose(home, tracker=None)
    assert (
        refused(
            lambda: services.home_dose_sitter_attest(link=home.sitter_link, dose_id=dose.pk)
        ).code
        == "dose_not_open"
    )
    assert (
        refused(
            lambda: services.home_dose_gate(link=home.patient_link, dose_id=dose.pk, **GOOD_GATE)
        ).code
        == "dose_not_open"
    )
    assert (
        refused(lambda: services.home_dose_take(link=home.patient_link, dose_id=dose.pk)).code
        == "gate_not_passed"
    )


def test_a_paused_programme_opens_no_dose(home):
    home.programme.status = "paused"
    home.programme.save()
    assert (
        refused(lambda: services.home_dose_open(link=home.patient_link)).code
        == "programme_not_active"
    )


def test_the_plan_ends_after_its_doses_and_an_empty_supply_holds_the_dose(home, session_clock):
    for _ in range(4):
        take_a_dose(home)
        session_clock.travel(timedelta(days=7))
    assert (
        refused(lambda: services.home_dose_open(link=home.patient_link)).code == "home_supply_short"
    )
    home.programme.doses_planned = 4
    home.programme.save()
    assert (
        refused(lambda: services.home_dose_open(link=home.patient_link)).code
        == "home_plan_complete"
    )


# --- supply and refills ---------------------------------------------------------------------


def _review(world, home, on, counted):
    return services.review_record(
        actor=actor(world, "nurse"), programme_id=home.programme.pk, reviewed_on=on,
        modality="audio_video", note="Doing well; sitter present each time.", counted_units=counted,
    )  # fmt: skip


def _refill(world, home):
    return services.refill_release(
        actor=actor(world, "prescriber"), programme_id=home.programme.pk, idempotency_key=key()
    )


def test_a_refill_is_refused_before_the_follow_up_and_kept_as_a_decision(
    world, home, session_clock
):
    take_a_dose(home)
    session_clock.travel(timedelta(days=7))
    take_a_dose(home)
    assert refused(lambda: _refill(world, home)).code == "refill_review_missing"
    decision = RefillDecision.objects.get()
    assert not decision.released
    assert decision.refused_codes == ["refill_review_missing", "refill_count_missing"]


def test_a_refill_after_the_review_is_refused_when_one_dose_is_unaccounted_for(
    world, home, session_clock
):
    take_a_dose(home)
    session_clock.travel(timedelta(days=7))
    take_a_dose(home)
    session_clock.travel(timedelta(days=24))
    _review(world, home, date(2026, 12, 31), counted=1)  # 4 dispensed, 2 taken: 2 should be left
    error = refused(lambda: _refill(world, home))
    assert error.code == "refill_unreconciled"
    assert "1 unaccounted for" in error.message
    # once the patient reports the missing unit lost, the counts reconcile and the refill goes
    services.supply_loss_report(
        actor=actor(world, "nurse"), programme_id=home.programme.pk, units=1,
        note="Dropped one; could not find it.", idempotency_key=key(),
    )  # fmt: skip
    _review(world, home, date(2026, 12, 31), counted=1)
    movement = _refill(world, home)
    assert movement.kind == SupplyKind.REFILL
    assert movement.units == 4
    assert [d.released for d in RefillDecision.objects.order_by("id")] == [False, True]


@pytest.mark.parametrize(
    ("doses", "review_day", "counted", "code"),
    [
        (1, date(2026, 12, 31), 3, "refill_too_few_doses"),
        (2, date(2026, 12, 30), 2, "refill_review_missing"),  # before day 30 (policy default)
    ],
)
def test_each_refill_refusal_has_its_code(
    world, home, session_clock, doses, review_day, counted, code
):
    for _ in range(doses):
        take_a_dose(home)
        session_clock.travel(timedelta(days=7))
    session_clock.travel(timedelta(days=30))
    _review(world, home, review_day, counted)
    assert refused(lambda: _refill(world, home)).code == code


def test_a_review_in_the_future_or_without_a_modality_is_refused(world, home):
    assert refused(lambda: _review(world, home, date(2031, 1, 1), 4)).code == "in_the_future"
    assert refused(lambda: services.review_record(
        actor=actor(world, "nurse"), programme_id=home.programme.pk, reviewed_on=date(2026, 12, 1),
        modality="", note="x", counted_units=4,
    )).code == "invalid"  # fmt: skip
    assert refused(lambda: _review(world, home, date(2026, 12, 1), -1)).code == "invalid"


def test_the_first_fill_is_recorded_once_and_needs_a_prescription(world, home):
    assert (
        refused(
            lambda: services.supply_dispense(
                actor=actor(world, "nurse"), programme_id=home.programme.pk, idempotency_key=key()
            )
        ).code
        == "already_dispensed"
    )
    bare = enrol(world, PatientFactory(clinic=world.clinic_a))
    assert (
        refused(
            lambda: services.supply_dispense(
                actor=actor(world, "nurse"), programme_id=bare.pk, idempotency_key=key()
            )
        ).code
        == "no_prescription"
    )
    assert (
        refused(
            lambda: services.refill_release(
                actor=actor(world, "prescriber"), programme_id=bare.pk, idempotency_key=key()
            )
        ).code
        == "no_prescription"
    )
    assert (
        refused(
            lambda: services.supply_loss_report(
                actor=actor(world, "nurse"),
                programme_id=home.programme.pk,
                units=0,
                note="x",
                idempotency_key=key(),
            )
        ).code
        == "invalid"
    )


# --- dose steps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dose_mg", "code"),
    [
        ("100", "step_too_large"),
        ("60", "step_not_on_step"),
        ("325", "step_out_of_range"),
        ("75", "dose_not_whole_units"),
    ],
)
def test_each_dose_step_refusal_has_its_code(world, home, dose_mg, code):
    assert (
        refused(
            lambda: services.dose_step_decide(
                actor=actor(world, "prescriber"),
                programme_id=home.programme.pk,
                dose_mg=dose_mg,
                reason="From the trackers.",
            )
        ).code
        == code
    )


def test_a_dose_step_within_the_protocol_changes_the_units_per_dose(world):
    programme = enrol(world)
    prescribe(world, programme, strength_mg="25")
    step = services.dose_step_decide(
        actor=actor(world, "prescriber"),
        programme_id=programme.pk,
        dose_mg="75",
        reason="Little effect at 50 mg; no red flags.",
    )
    programme.refresh_from_db()
    assert (step.from_mg, step.to_mg, programme.units_per_dose) == (50, 75, 3)


# --- misuse signals the recovery app reads --------------------------------------------------


def test_misuse_signals_are_plain_queryable_facts(world, home, session_clock):
    from ketacare.athome.models import HomeDose, SupplyMovement

    take_a_dose(home, tracker={**QUIET_TRACKER, "use_outside_plan": 1})
    services.supply_loss_report(
        actor=actor(world, "nurse"),
        programme_id=home.programme.pk,
        units=1,
        note="Missing.",
        idempotency_key=key(),
    )
    assert SupplyMovement.objects.filter(patient=world.patient_a, kind="lost").count() == 1
    assert (
        HomeDose.objects.filter(
            patient=world.patient_a, tracker_answers__use_outside_plan=1
        ).count()
        == 1
    )
    flagged = [d.red_flags for d in HomeDose.objects.filter(patient=world.patient_a)]
    assert flagged == [["home_use_outside_plan"]]
