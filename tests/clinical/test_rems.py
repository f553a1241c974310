"""SPRAVATO REMS rules: the gate, the monitoring form and its 7-calendar-day clock."""

from datetime import date

import pytest

from ketacare.clinical import InvalidInput, ProtocolViolation
from ketacare.clinical import rems as R
from ketacare.clinical.protocols import get_protocol

ESKETAMINE = get_protocol("esketamine_trd")
IV = get_protocol("iv_induction_6x")


def test_esketamine_protocols_fall_under_the_rems_and_iv_does_not():
    assert R.under_rems(ESKETAMINE)
    assert R.under_rems(get_protocol("esketamine_suicidal"))
    assert not R.under_rems(IV)


@pytest.mark.parametrize(
    ("certified", "enrolled", "code"),
    [
        (False, True, "rems_setting_not_certified"),
        (None, True, "rems_setting_not_certified"),
        (True, False, "rems_patient_not_enrolled"),
        (True, None, "rems_patient_not_enrolled"),
    ],
)
def test_the_gate_refuses_uncertified_settings_and_unenrolled_patients(certified, enrolled, code):
    with pytest.raises(ProtocolViolation) as refused:
        R.rems_gate(protocol=ESKETAMINE, facts=R.RemsFacts(certified, enrolled), dosing=True)
    assert refused.value.code == code


def test_the_gate_lets_certified_enrolled_esketamine_and_any_iv_session_through():
    R.rems_gate(protocol=ESKETAMINE, facts=R.RemsFacts(True, True), dosing=True)
    R.rems_gate(protocol=IV, facts=R.RemsFacts(None, None), dosing=True)


def test_check_in_asks_only_about_the_setting():
    R.rems_gate(protocol=ESKETAMINE, facts=R.RemsFacts(True, False), dosing=False)
    with pytest.raises(ProtocolViolation):
        R.rems_gate(protocol=ESKETAMINE, facts=R.RemsFacts(False, True), dosing=False)


def test_the_form_is_due_seven_calendar_days_after_the_session_weekends_included():
    # a Friday session: due the next Friday, not moved for the weekend
    assert R.pmf_due_on(date(2026, 11, 27)) == date(2026, 12, 4)


@pytest.mark.parametrize(
    ("submitted", "today", "state"),
    [
        (None, date(2026, 12, 4), R.PmfState.DUE),
        (None, date(2026, 12, 5), R.PmfState.OVERDUE),
        (date(2026, 12, 4), date(2026, 12, 9), R.PmfState.SUBMITTED),
        (date(2026, 12, 5), date(2026, 12, 9), R.PmfState.SUBMITTED_LATE),
    ],
)
def test_queue_states(submitted, today, state):
    assert R.pmf_state(due_on=date(2026, 12, 4), submitted_on=submitted, today=today) == state


def test_a_late_submission_needs_a_reason_and_none_is_dated_in_the_future():
    due = date(2026, 12, 4)
    R.submission_ok(due_on=due, submitted_on=due, today=due, late_reason="")
    R.submission_ok(
        due_on=due,
        submitted_on=date(2026, 12, 6),
        today=date(2026, 12, 6),
        late_reason="portal down",
    )
    with pytest.raises(ProtocolViolation) as refused:
        R.submission_ok(
            due_on=due, submitted_on=date(2026, 12, 6), today=date(2026, 12, 6), late_reason=" "
        )
    assert refused.value.code == "late_reason_required"
    with pytest.raises(InvalidInput):
        R.submission_ok(
            due_on=due, submitted_on=date(2026, 12, 7), today=date(2026, 12, 6), late_reason=""
        )


def test_the_current_definition_asks_every_reference_field():
    definition = R.pmf_definition(R.PMF_CURRENT)
    ids = {f.id for f in definition.fields}
    for needed in (
        "patient_name",
        "date_of_birth",
        "sex",
        "first_treatment",
        "concomitant_classes",
        "monitoring_clinician",
        "setting",
        "session_date",
        "dose",
        "lot",
        "monitoring_minutes",
        "ready_minutes",
        "bp_before",
        "bp_at_40",
        "bp_before_discharge",
        "sedation",
        "dissociation",
        "respiratory_depression",
        "adverse_events",
        "vitals_acceptable_before_dosing",
        "vitals_acceptable_before_discharge",
    ):
        assert needed in ids
    assert definition.field("dose").choices == ("56 mg", "84 mg", "other")
    with pytest.raises(InvalidInput):
        definition.field("shoe_size")
    with pytest.raises(InvalidInput):
        R.pmf_definition("1999-01")


def test_missing_required_answers_and_bad_choices_are_named():
    definition = R.pmf_definition(R.PMF_CURRENT)
    answers = {f.id: "x" for f in definition.fields}
    answers["dose"] = "56 mg"
    assert R.pmf_missing(definition, answers) == []
    answers["lot"] = ""
    answers["dose"] = "60 mg"
    answers["adverse_events"] = None
    assert R.pmf_missing(definition, answers) == ["dose", "lot"]


@pytest.mark.parametrize(("dose", "box"), [("56", "56 mg"), ("84", "84 mg"), ("28", "other")])
def test_dose_boxes(dose, box):
    assert R.dose_choice(dose) == box


def test_monitoring_minutes_meet_the_two_hour_minimum():
    assert R.monitoring_minutes_ok(120, minimum=120)
    assert not R.monitoring_minutes_ok(119, minimum=120)
    assert not R.monitoring_minutes_ok(None, minimum=120)
