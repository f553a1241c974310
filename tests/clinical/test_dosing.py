"""Dosing: hand-checked cases per route and weight basis, warnings, hard stops and properties."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketacare.clinical import HardStop, InvalidInput, ProtocolViolation
from ketacare.clinical.dosing import (
    ABOVE_RANGE,
    ABOVE_TITRATION_START,
    BELOW_RANGE,
    HEIGHT_AT_OR_BELOW_BASE,
    IDEAL_ABOVE_ACTUAL,
    INFUSION_TOO_SHORT,
    LABEL_FIRST_DOSE,
    NOT_A_LABEL_DOSE,
    OBESE_IDEAL_USED,
    STEP_UP_INTERVAL_UNKNOWN,
    STEP_UP_NEEDS_PRESCRIBER,
    STEP_UP_TOO_SOON,
    TITRATION_STEP_EXCEEDED,
    DosePlan,
    dosing_weight,
    esketamine_dose,
    im_dose,
    iv_dose,
    oral_dose,
    sublingual_dose,
)
from ketacare.clinical.protocols import FixedStepDose, Protocol, WeightBasedDose, get_protocol

D = Decimal


POLICY_BASIS = "actual_or_ideal_if_obese"  # the packaged IV protocol's basis (policy default)


def iv_protocol(basis: str = "actual") -> Protocol:
    protocol = get_protocol("iv_induction_6x")
    if basis == POLICY_BASIS:
        return protocol
    assert isinstance(protocol.dose, WeightBasedDose)
    return dataclasses.replace(
        protocol, dose=dataclasses.replace(protocol.dose, weight_basis=basis)
    )


def step(plan: DosePlan, label: str) -> Decimal:
    return next(s.value for s in plan.steps if s.label == label)


def codes(plan: DosePlan) -> list[str]:
    return [warning.code for warning in plan.warnings]


# --- IV -------------------------------------------------------------------------------------


def test_iv_standard_dose_on_actual_weight_hand_checked() -> None:
    # given a man of 80 kg and 180 cm: BMI 80 / 1.8² = 24.69 -> 24.7 < 30, so actual weight (policy)
    # 0.5 mg/kg × 80 kg = 40.0 mg; bag of 0.4 mg/mL: 40.0 / 0.4 = 100.0 mL;
    # over 40 min: 100.0 mL ÷ (40/60 h) = 150.0 mL/h; delivered 150.0 × 40/60 = 100.00 mL = 40.00 mg
    plan = iv_dose(
        protocol=iv_protocol(POLICY_BASIS),
        actual_weight_kg=80,
        height_cm=180,
        sex="male",
        concentration_mg_per_ml=D("0.4"),
        container_volume_ml=100,
    )
    assert step(plan, "BMI") == D("24.7")
    assert (plan.dose_mg, plan.volume_ml, plan.rate_ml_per_h) == (D("40.0"), D("100.0"), D("150.0"))
    assert plan.delivered_dose_mg == D("40.00")
    assert plan.dosing_weight is not None and plan.dosing_weight.basis == "actual"
    assert (plan.warnings, plan.requires_reason, plan.may_proceed) == ((), False, True)
    assert any("stop after 100.0 mL" in note for note in plan.notes)


def test_iv_dose_on_ideal_weight_when_bmi_is_30_or_more_hand_checked() -> None:
    # given a woman of 110 kg and 170 cm: BMI 110 / 1.7² = 38.06 -> 38.1 >= 30 -> ideal weight
    # height 170 / 2.54 = 66.93 in; IBW = 45.5 + 2.3 × 6.929 = 61.44 -> 61.4 kg (Devine)
    # 0.5 × 61.4 = 30.7 mg; 1 mg/mL -> 30.7 mL; 30.7 ÷ (40/60) = 46.05 -> 46.0 mL/h (rounded down)
    # delivered: 46.0 × 40/60 = 30.67 mL = 30.67 mg (never more than the 30.7 mg ordered)
    plan = iv_dose(
        protocol=iv_protocol(POLICY_BASIS),
        actual_weight_kg=110,
        height_cm=170,
        sex="female",
        concentration_mg_per_ml=1,
        container_volume_ml=50,
    )
    assert plan.dosing_weight is not None
    assert (plan.dosing_weight.ideal_weight_kg, plan.dosing_weight.basis) == (D("61.4"), "ideal")
    assert OBESE_IDEAL_USED in plan.dosing_weight.flags
    assert (plan.dose_mg, plan.volume_ml, plan.rate_ml_per_h) == (D("30.7"), D("30.7"), D("46.0"))
    assert plan.delivered_dose_mg == D("30.67")
    assert step(plan, "Dose per kg of actual weight") == D("0.279")  # 30.7 / 110


def test_iv_dose_on_adjusted_weight_hand_checked() -> None:
    # given a man of 120 kg, 175 cm: 175 / 2.54 = 68.90 in; IBW = 50 + 2.3 × 8.898 = 70.46 -> 70.5
    # adjusted = 70.5 + 0.4 × (120 - 70.5) = 90.3 kg; 0.5 × 90.3 = 45.15 -> 45.1 mg (down)
    # 0.5 mg/mL -> 90.2 mL; 90.2 ÷ (40/60) = 135.3 mL/h
    plan = iv_dose(
        protocol=iv_protocol("adjusted"),
        actual_weight_kg=120,
        height_cm=175,
        sex="male",
        concentration_mg_per_ml=D("0.5"),
        container_volume_ml=100,
    )
    assert plan.dosing_weight is not None
    assert (plan.dosing_weight.ideal_weight_kg, plan.dosing_weight.adjusted_weight_kg) == (
        D("70.5"),
        D("90.3"),
    )
    assert (plan.dose_mg, plan.volume_ml, plan.rate_ml_per_h) == (D("45.1"), D("90.2"), D("135.3"))


def test_at_or_under_60_inches_the_devine_base_weight_is_used_and_flagged() -> None:
    # given a woman of 95 kg and 150 cm: 150 / 2.54 = 59.06 in <= 60 -> IBW 45.5 kg (base)
    # BMI 95 / 1.5² = 42.2 -> ideal; 0.5 × 45.5 = 22.75 -> 22.7 mg
    plan = iv_dose(
        protocol=iv_protocol(POLICY_BASIS),
        actual_weight_kg=95,
        height_cm=150,
        sex="female",
        concentration_mg_per_ml=D("0.4"),
        container_volume_ml=100,
    )
    assert plan.dosing_weight is not None
    assert plan.dosing_weight.ideal_weight_kg == D("45.5")
    assert HEIGHT_AT_OR_BELOW_BASE in plan.dosing_weight.flags
    # the recorded dose is what the measured volume gives; the calculation stays beside it
    assert (plan.calculated_dose_mg, plan.dose_mg) == (D("22.7"), D("22.68"))


def test_ideal_weight_above_actual_checks_the_range_against_actual_weight() -> None:
    # given a woman of 50 kg and 170 cm, dosed on IBW 61.4 kg: 0.75 × 61.4 = 46.05 -> 46.0 mg
    # = 0.92 mg/kg of actual weight, above the 0.75 mg/kg range: needs a reason
    plan = iv_dose(
        protocol=iv_protocol("ideal"),
        actual_weight_kg=50,
        height_cm=170,
        sex="female",
        mg_per_kg=D("0.75"),
        concentration_mg_per_ml=1,
        container_volume_ml=100,
    )
    assert plan.dosing_weight is not None and IDEAL_ABOVE_ACTUAL in plan.dosing_weight.flags
    assert codes(plan) == [ABOVE_RANGE]
    assert "of actual weight" in plan.warnings[0].message


def test_ideal_weight_above_actual_cannot_reach_anesthetic_doses_per_kg_of_actual_weight() -> None:
    # 1.0 × 61.4 = 61.4 mg = 1.23 mg/kg of a 50 kg patient: above the 1.0 mg/kg hard stop
    with pytest.raises(HardStop, match="of actual weight"):
        iv_dose(
            protocol=iv_protocol("ideal"),
            actual_weight_kg=50,
            height_cm=170,
            sex="female",
            mg_per_kg=1,
            concentration_mg_per_ml=1,
            container_volume_ml=100,
        )


@pytest.mark.parametrize("mg_per_kg", [D("1.01"), D("1.5"), D("4.5")])
def test_iv_above_1_mg_per_kg_is_a_hard_stop_no_reason_passes(mg_per_kg: Decimal) -> None:
    with pytest.raises(HardStop, match="anesthetic") as error:
        iv_dose(
            protocol=iv_protocol(),
            actual_weight_kg=80,
            mg_per_kg=mg_per_kg,
            concentration_mg_per_ml=1,
            container_volume_ml=500,
            override_reason="prescriber insists",
        )
    assert error.value.code == "above_ceiling"


@pytest.mark.parametrize("mg_per_kg", [D("0.76"), D("1.0")])
def test_iv_above_the_range_up_to_the_ceiling_needs_a_reason(mg_per_kg: Decimal) -> None:
    # given
    kwargs = {
        "protocol": iv_protocol(),
        "actual_weight_kg": 80,
        "mg_per_kg": mg_per_kg,
        "concentration_mg_per_ml": 1,
        "container_volume_ml": 100,
    }
    # when
    without = iv_dose(**kwargs)  # type: ignore[arg-type]
    with_reason = iv_dose(**kwargs, override_reason="  partial response at 0.75 mg/kg  ")  # type: ignore[arg-type]
    # then
    assert codes(without) == [ABOVE_RANGE]
    assert (without.requires_reason, without.may_proceed) == (True, False)
    with pytest.raises(ProtocolViolation) as error:
        without.ensure_may_proceed()
    assert error.value.code == ABOVE_RANGE
    assert (with_reason.may_proceed, with_reason.override_reason) == (
        True,
        "partial response at 0.75 mg/kg",
    )
    with_reason.ensure_may_proceed()


def test_iv_below_the_range_needs_a_reason() -> None:
    plan = iv_dose(
        protocol=iv_protocol(),
        actual_weight_kg=80,
        mg_per_kg=D("0.05"),
        concentration_mg_per_ml=D("0.1"),
        container_volume_ml=100,
    )
    assert codes(plan) == [BELOW_RANGE]


def test_iv_at_the_range_edges_proceeds_without_a_reason() -> None:
    for mg_per_kg in (D("0.1"), D("0.75")):
        plan = iv_dose(
            protocol=iv_protocol(),
            actual_weight_kg=80,
            mg_per_kg=mg_per_kg,
            concentration_mg_per_ml=1,
            container_volume_ml=100,
        )
        assert plan.warnings == ()


def test_iv_rate_is_exact_when_the_volume_divides_evenly() -> None:
    # 0.41 mg/kg × 115.9 kg = 47.519 -> 47.5 mg; 0.5 mg/mL -> 95.0 mL; over 25 min:
    # 95.0 × 60 / 25 = 228.0 mL/h exactly (dividing by a rounded 25/60 h gave 227.9)
    plan = iv_dose(
        protocol=iv_protocol(),
        actual_weight_kg=D("115.9"),
        mg_per_kg=D("0.41"),
        duration_min=25,
        concentration_mg_per_ml=D("0.5"),
        container_volume_ml=100,
        override_reason="short infusion tested",
    )
    assert (plan.volume_ml, plan.rate_ml_per_h, plan.delivered_dose_mg) == (
        D("95.0"),
        D("228.0"),
        D("47.50"),
    )


def test_iv_infusion_shorter_than_40_minutes_needs_a_reason() -> None:
    # 40 mg in 100 mL over 30 min: 100 ÷ 0.5 h = 200.0 mL/h
    plan = iv_dose(
        protocol=iv_protocol(),
        actual_weight_kg=80,
        duration_min=30,
        concentration_mg_per_ml=D("0.4"),
        container_volume_ml=100,
    )
    assert codes(plan) == [INFUSION_TOO_SHORT]
    assert plan.rate_ml_per_h == D("200.0")


def test_iv_100_mg_per_ml_undiluted_is_a_hard_stop() -> None:
    with pytest.raises(HardStop, match="diluted") as error:
        iv_dose(
            protocol=iv_protocol(),
            actual_weight_kg=80,
            concentration_mg_per_ml=100,
            container_volume_ml=10,
        )
    assert error.value.code == "undiluted_for_iv"


def test_iv_a_container_too_small_for_the_dose_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="holds 50") as error:
        iv_dose(
            protocol=iv_protocol(),
            actual_weight_kg=80,
            concentration_mg_per_ml=D("0.4"),
            container_volume_ml=50,
        )
    assert error.value.field == "container_volume_ml"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"actual_weight_kg": 800}, "actual_weight_kg"),
        ({"actual_weight_kg": 0}, "actual_weight_kg"),
        ({"actual_weight_kg": "eighty"}, "actual_weight_kg"),
        ({"actual_weight_kg": True}, "actual_weight_kg"),
        ({"actual_weight_kg": float("nan")}, "actual_weight_kg"),
        ({"mg_per_kg": -1}, "mg_per_kg"),
        ({"duration_min": 0}, "duration_min"),
        ({"height_cm": 1.8}, "height_cm"),
        ({"override_reason": "  "}, "override_reason"),
    ],
)
def test_iv_wrong_input_is_rejected_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "protocol": iv_protocol(),
        "actual_weight_kg": 80,
        "concentration_mg_per_ml": 1,
        "container_volume_ml": 100,
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidInput) as error:
        iv_dose(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field


def test_iv_a_volume_that_rounds_to_zero_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="0 mL"):
        iv_dose(
            protocol=iv_protocol(),
            actual_weight_kg=30,
            mg_per_kg=D("0.1"),
            concentration_mg_per_ml=50,
            container_volume_ml=10,
        )


def test_iv_a_pump_rate_that_rounds_to_zero_is_rejected() -> None:
    # 0.1 mg/kg × 30 kg = 3.0 mg at 10 mg/mL = 0.3 mL; over 300 min: 0.3 ÷ 5 h = 0.06 -> 0.0 mL/h
    with pytest.raises(InvalidInput, match="0 mL/h"):
        iv_dose(
            protocol=iv_protocol(),
            actual_weight_kg=30,
            mg_per_kg=D("0.1"),
            concentration_mg_per_ml=10,
            container_volume_ml=10,
            duration_min=300,
        )


def test_a_dose_that_rounds_to_zero_mg_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="0 mg"):
        iv_dose(
            protocol=iv_protocol(),
            actual_weight_kg=30,
            mg_per_kg=D("0.001"),
            concentration_mg_per_ml=1,
            container_volume_ml=10,
        )


def test_floats_are_taken_by_their_decimal_repr() -> None:
    plan = iv_dose(
        protocol=iv_protocol(),
        actual_weight_kg=80.0,
        mg_per_kg=0.5,
        concentration_mg_per_ml=0.4,
        container_volume_ml=100.0,
    )
    assert plan.dose_mg == D("40.0")


# --- dosing weight --------------------------------------------------------------------------


def test_dosing_weight_needs_height_for_ideal_weight() -> None:
    with pytest.raises(InvalidInput) as error:
        dosing_weight(basis="ideal", actual_weight_kg=80, sex="male")
    assert error.value.field == "height_cm"


@pytest.mark.parametrize("sex", [None, "other", "M"])
def test_dosing_weight_needs_a_sex_the_devine_formula_defines(sex: str | None) -> None:
    with pytest.raises(InvalidInput, match="Devine") as error:
        dosing_weight(basis="ideal", actual_weight_kg=80, height_cm=180, sex=sex)
    assert error.value.field == "sex"


def test_actual_weight_basis_needs_neither_height_nor_sex() -> None:
    weight = dosing_weight(basis="actual", actual_weight_kg=D("72.5"))
    assert (weight.weight_kg, weight.bmi_kg_per_m2, weight.ideal_weight_kg) == (
        D("72.5"),
        None,
        None,
    )


def test_an_unknown_weight_basis_is_rejected() -> None:
    with pytest.raises(InvalidInput) as error:
        dosing_weight(basis="lean", actual_weight_kg=80)
    assert error.value.field == "weight_basis"


def test_obese_policy_basis_with_bmi_under_30_needs_no_sex() -> None:
    weight = dosing_weight(basis="actual_or_ideal_if_obese", actual_weight_kg=70, height_cm=175)
    assert (weight.basis, weight.requested_basis) == ("actual", "actual_or_ideal_if_obese")


# --- IM -------------------------------------------------------------------------------------


def im_protocol() -> Protocol:
    return get_protocol("im_titration")


def test_im_first_titration_dose_hand_checked() -> None:
    # 0.1 mg/kg × 70 kg = 7.0 mg; 50 mg/mL -> 7.0 / 50 = 0.14 mL (Loo 2016 titration start)
    plan = im_dose(protocol=im_protocol(), actual_weight_kg=70, concentration_mg_per_ml=50)
    assert (plan.dose_mg, plan.volume_ml, plan.warnings) == (D("7.0"), D("0.14"), ())


def test_im_top_of_titration_hand_checked() -> None:
    # 0.5 mg/kg × 83 kg = 41.5 mg; 100 mg/mL -> 0.415 mL (to 0.01 mL, down: 0.41 mL)
    plan = im_dose(
        protocol=im_protocol(),
        actual_weight_kg=83,
        mg_per_kg=D("0.5"),
        previous_mg_per_kg=D("0.4"),
        concentration_mg_per_ml=100,
    )
    # 0.41 mL of 100 mg/mL gives 41 mg: recorded as given, 1.2% from 41.5 mg (within 5%)
    assert (plan.calculated_dose_mg, plan.dose_mg, plan.volume_ml, plan.warnings) == (
        D("41.5"),
        D("41.00"),
        D("0.41"),
        (),
    )


def test_im_first_dose_above_the_titration_start_needs_a_reason() -> None:
    plan = im_dose(
        protocol=im_protocol(), actual_weight_kg=70, mg_per_kg=D("0.2"), concentration_mg_per_ml=50
    )
    assert codes(plan) == [ABOVE_TITRATION_START]


def test_im_more_than_one_titration_step_needs_a_reason() -> None:
    plan = im_dose(
        protocol=im_protocol(),
        actual_weight_kg=70,
        mg_per_kg=D("0.3"),
        previous_mg_per_kg=D("0.1"),
        concentration_mg_per_ml=50,
    )
    assert codes(plan) == [TITRATION_STEP_EXCEEDED]


def test_im_above_the_range_needs_a_reason_and_above_1_mg_per_kg_is_a_hard_stop() -> None:
    plan = im_dose(
        protocol=im_protocol(),
        actual_weight_kg=70,
        mg_per_kg=D("0.6"),
        previous_mg_per_kg=D("0.5"),
        concentration_mg_per_ml=50,
    )
    assert codes(plan) == [ABOVE_RANGE]
    with pytest.raises(HardStop, match="IM anesthetic induction starts at 6.5"):
        im_dose(
            protocol=im_protocol(),
            actual_weight_kg=70,
            mg_per_kg=D("1.1"),
            previous_mg_per_kg=1,
            concentration_mg_per_ml=50,
            override_reason="any",
        )


def test_im_a_volume_that_rounds_to_zero_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="0 mL"):
        im_dose(protocol=im_protocol(), actual_weight_kg=30, concentration_mg_per_ml=1000)


def test_a_dose_function_refuses_a_protocol_of_another_route() -> None:
    with pytest.raises(InvalidInput, match="route") as error:
        im_dose(protocol=iv_protocol(), actual_weight_kg=70, concentration_mg_per_ml=50)
    assert error.value.field == "protocol"
    with pytest.raises(InvalidInput, match="Protocol"):
        oral_dose(protocol="sublingual_home", dose_mg=50)  # type: ignore[arg-type]


# --- sublingual / oral ----------------------------------------------------------------------


def home() -> Protocol:
    return get_protocol("sublingual_home")


def test_sublingual_first_dose_at_the_protocol_start_proceeds() -> None:
    # Al Shirawi 2017: start 50 mg = 2 × 25 mg steps
    plan = sublingual_dose(protocol=home(), dose_mg=50)
    assert (plan.dose_mg, plan.warnings, plan.route) == (D("50"), (), "sublingual")


def test_sublingual_first_dose_above_the_start_needs_a_reason() -> None:
    assert codes(oral_dose(protocol=home(), dose_mg=75)) == [ABOVE_TITRATION_START]


def test_sublingual_step_up_always_needs_the_prescriber() -> None:
    # 50 -> 75 mg after 3 days: one step, spaced as Al Shirawi 2017; still the prescriber's decision
    plan = oral_dose(protocol=home(), dose_mg=75, previous_dose_mg=50, days_since_last_increase=3)
    assert codes(plan) == [STEP_UP_NEEDS_PRESCRIBER]
    assert step(plan, "Step up") == D("25")


def test_sublingual_step_up_sooner_than_3_days_or_of_unknown_spacing_is_flagged() -> None:
    assert STEP_UP_TOO_SOON in codes(
        oral_dose(protocol=home(), dose_mg=75, previous_dose_mg=50, days_since_last_increase=2)
    )
    assert STEP_UP_INTERVAL_UNKNOWN in codes(
        oral_dose(protocol=home(), dose_mg=75, previous_dose_mg=50)
    )


def test_sublingual_two_steps_at_once_is_flagged() -> None:
    plan = oral_dose(protocol=home(), dose_mg=100, previous_dose_mg=50, days_since_last_increase=7)
    assert codes(plan) == [STEP_UP_NEEDS_PRESCRIBER, TITRATION_STEP_EXCEEDED]


def test_sublingual_same_or_lower_dose_needs_no_reason() -> None:
    assert oral_dose(protocol=home(), dose_mg=50, previous_dose_mg=75).warnings == ()


def test_sublingual_dose_off_the_protocol_steps_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="steps") as error:
        oral_dose(protocol=home(), dose_mg=60)
    assert error.value.field == "dose_mg"


def test_sublingual_above_300_mg_is_a_hard_stop_and_300_is_allowed() -> None:
    with pytest.raises(HardStop, match="300"):
        oral_dose(protocol=home(), dose_mg=325, previous_dose_mg=300, override_reason="any")
    assert oral_dose(protocol=home(), dose_mg=300, previous_dose_mg=300).warnings == ()


def test_sublingual_below_the_range_needs_a_reason() -> None:
    protocol = home()
    assert isinstance(protocol.dose, FixedStepDose)
    low_start = dataclasses.replace(
        protocol, dose=dataclasses.replace(protocol.dose, range_mg=(D(50), D(300)))
    )
    assert BELOW_RANGE in codes(oral_dose(protocol=low_start, dose_mg=25, previous_dose_mg=50))


# --- esketamine -----------------------------------------------------------------------------


def test_esketamine_56_mg_is_two_devices_five_minutes_apart() -> None:
    # 56 / 28 = 2 devices; device 1 at 0 min, device 2 after 5 min rest (SPRAVATO PI)
    plan = esketamine_dose(protocol=get_protocol("esketamine_trd"), dose_mg=56, first_session=True)
    assert (plan.devices, plan.rest_between_devices_min, plan.warnings) == (2, 5, ())
    assert [step(plan, "Device 1"), step(plan, "Device 2"), step(plan, "Last device")] == [
        D(0),
        D(5),
        D(5),
    ]


def test_esketamine_84_mg_is_three_devices() -> None:
    plan = esketamine_dose(protocol=get_protocol("esketamine_trd"), dose_mg=84, first_session=False)
    assert (plan.devices, step(plan, "Last device"), plan.warnings) == (3, D(10), ())


def test_esketamine_trd_day_1_is_always_56_mg() -> None:
    plan = esketamine_dose(protocol=get_protocol("esketamine_trd"), dose_mg=84, first_session=True)
    assert codes(plan) == [LABEL_FIRST_DOSE]


def test_esketamine_suicidal_ideation_starts_at_84_mg() -> None:
    protocol = get_protocol("esketamine_suicidal")
    assert esketamine_dose(protocol=protocol, dose_mg=84, first_session=True).warnings == ()
    assert codes(esketamine_dose(protocol=protocol, dose_mg=56, first_session=True)) == [
        LABEL_FIRST_DOSE
    ]


def test_esketamine_28_mg_is_not_a_label_dose() -> None:
    plan = esketamine_dose(protocol=get_protocol("esketamine_trd"), dose_mg=28, first_session=False)
    assert codes(plan) == [NOT_A_LABEL_DOSE]


def test_esketamine_above_84_mg_is_a_hard_stop() -> None:
    with pytest.raises(HardStop, match="84"):
        esketamine_dose(
            protocol=get_protocol("esketamine_trd"),
            dose_mg=112,
            first_session=False,
            override_reason="x",
        )


def test_esketamine_dose_not_in_whole_devices_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="devices"):
        esketamine_dose(protocol=get_protocol("esketamine_trd"), dose_mg=50, first_session=False)


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    weight=st.decimals(min_value=40, max_value=200, places=1),
    height=st.integers(140, 210),
    sex=st.sampled_from(["male", "female"]),
    mg_per_kg=st.decimals(min_value=D("0.05"), max_value=D("1.5"), places=2),
    # the smallest dose (0.05 mg/kg × 40 kg = 2.0 mg) still gives 0.2 mL at 10 mg/mL: never 0 mL/h
    concentration=st.sampled_from([D("0.4"), D("0.5"), D(1), D(2), D(10)]),
    duration=st.integers(20, 120),
    basis=st.sampled_from(["actual", "ideal", "adjusted", POLICY_BASIS]),
)
def test_iv_never_passes_the_ceiling_and_rate_times_time_matches_volume(
    weight: Decimal,
    height: int,
    sex: str,
    mg_per_kg: Decimal,
    concentration: Decimal,
    duration: int,
    basis: str,
) -> None:
    try:
        plan = iv_dose(
            protocol=iv_protocol(basis),
            actual_weight_kg=weight,
            height_cm=height,
            sex=sex,
            mg_per_kg=mg_per_kg,
            duration_min=duration,
            concentration_mg_per_ml=concentration,
            container_volume_ml=100000,
            override_reason="test",
        )
    except HardStop:
        used = dosing_weight(
            basis=basis, actual_weight_kg=weight, height_cm=height, sex=sex
        ).weight_kg
        assert max(mg_per_kg, mg_per_kg * used / weight) > 1  # only above 1 mg/kg of some weight
        return
    assert (
        plan.dosing_weight is not None
        and plan.volume_ml is not None
        and plan.rate_ml_per_h is not None
    )
    assert plan.dose_mg / plan.dosing_weight.weight_kg <= 1
    assert plan.dose_mg / plan.dosing_weight.actual_weight_kg <= 1
    delivered = plan.rate_ml_per_h * duration / 60
    assert delivered <= plan.volume_ml  # rounded down: never more than ordered
    assert plan.volume_ml - delivered < D("0.1") * duration / 60  # within one pump step (0.1 mL/h)
    assert plan.delivered_dose_mg is not None and plan.delivered_dose_mg <= plan.dose_mg + D(
        "0.005"
    )


@settings(max_examples=60, deadline=None)
@given(
    weight=st.decimals(min_value=30, max_value=200, places=1),
    mg_per_kg=st.decimals(min_value=D("0.05"), max_value=D("1.5"), places=2),
)
def test_im_never_passes_the_ceiling(weight: Decimal, mg_per_kg: Decimal) -> None:
    try:
        plan = im_dose(
            protocol=im_protocol(),
            actual_weight_kg=weight,
            mg_per_kg=mg_per_kg,
            concentration_mg_per_ml=50,
            override_reason="test",
        )
    except HardStop:
        assert mg_per_kg > 1
        return
    assert plan.dose_mg / weight <= 1
    assert plan.volume_ml is not None and plan.volume_ml * 50 <= plan.dose_mg


@settings(max_examples=60, deadline=None)
@given(
    dose=st.integers(1, 20).map(lambda n: n * 25),
    previous=st.none() | st.integers(1, 12).map(lambda n: n * 25),
)
def test_sublingual_never_passes_300_mg(dose: int, previous: int | None) -> None:
    try:
        plan = oral_dose(
            protocol=home(), dose_mg=dose, previous_dose_mg=previous, days_since_last_increase=7
        )
    except HardStop:
        assert dose > 300
        return
    assert plan.dose_mg <= 300


@settings(max_examples=60, deadline=None)
@given(dose=st.integers(1, 10).map(lambda n: n * 28))
def test_esketamine_never_passes_84_mg(dose: int) -> None:
    try:
        plan = esketamine_dose(
            protocol=get_protocol("esketamine_trd"), dose_mg=dose, first_session=False
        )
    except HardStop:
        assert dose > 84
        return
    assert plan.dose_mg <= 84 and plan.devices == dose // 28
