"""Record plausibility, clinic alarm tightening, route delivery data, history and alert urgency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ketacare.clinical import DataError, InvalidInput
from ketacare.clinical._data import parse_document
from ketacare.clinical.alerts import IMMEDIATE, REVIEW, SAME_DAY, rank, urgency
from ketacare.clinical.history import PastDose, TimedScore, baseline_index, titration
from ketacare.clinical.monitoring import (
    ALARM_BP_FALL,
    ALARM_BP_LOW,
    VitalReading,
    check_pre_dose,
    check_vitals,
    discharge_check,
)
from ketacare.clinical.plausibility import (
    BP_INVERTED,
    WEIGHT_CHANGED,
    PreviousWeight,
    check_vital_signs,
    check_weight,
)
from ketacare.clinical.profiles import (
    load_deliveries,
    parse_deliveries,
    tighten_alarms,
)
from ketacare.clinical.protocols import get_protocol, load_protocols

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal
IV = get_protocol("iv_induction_6x")
ESK = get_protocol("esketamine_trd")


# --- weights and vital signs ------------------------------------------------------------------


def test_a_weight_needs_its_unit() -> None:
    with pytest.raises(InvalidInput) as error:
        check_weight(value=70, unit="stone", on=date(2026, 3, 2), previous=None)
    assert error.value.field == "weight_unit"


@pytest.mark.parametrize(("value", "unit"), [(800, "kg"), (20, "kg"), (900, "lb")])
def test_a_weight_outside_the_input_bounds_is_refused(value: int, unit: str) -> None:
    with pytest.raises(InvalidInput) as error:
        check_weight(value=value, unit=unit, on=date(2026, 3, 2), previous=None)
    assert error.value.field == "weight"


def test_a_height_outside_the_input_bounds_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        check_weight(value=70, unit="kg", on=date(2026, 3, 2), previous=None, height_cm=17)
    assert error.value.field == "height_cm"


def test_a_weight_typed_in_pounds_is_challenged_in_kg_when_it_changed() -> None:
    check = check_weight(
        value=100, unit="lb", on=date(2026, 3, 2), previous=PreviousWeight(D(68), date(2026, 3, 1))
    )
    assert [c.code for c in check.challenges] == [WEIGHT_CHANGED]
    assert "100 lb would be 45.4 kg" in check.challenges[0].message


def test_an_old_or_close_weight_is_not_challenged() -> None:
    old = PreviousWeight(D(68), date(2025, 1, 1))
    assert check_weight(value=80, unit="kg", on=date(2026, 3, 2), previous=old).challenges == ()
    near = PreviousWeight(D(68), date(2026, 3, 1))
    check = check_weight(value=72, unit="kg", on=date(2026, 3, 2), previous=near, height_cm=170)
    assert (check.challenges, check.bmi_kg_per_m2) == ((), D("24.9"))


def test_plausible_vital_signs_pass_and_an_inverted_bp_is_challenged() -> None:
    normal = {"systolic": 120, "diastolic": 80, "heart_rate": 38, "respiratory_rate": 8}
    assert check_vital_signs({**normal, "spo2": None}) == ()
    assert [c.code for c in check_vital_signs({"systolic": 80, "diastolic": 90})] == [BP_INVERTED]


@pytest.mark.parametrize("values", [{"temperature": 37}, {"systolic": 12.5}, {"spo2": True}])
def test_unknown_or_non_integer_vitals_are_invalid(values: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        check_vital_signs(values)  # type: ignore[arg-type]


# --- monitoring additions ----------------------------------------------------------------------


def test_a_fall_of_more_than_20_percent_from_the_pre_dose_systolic_alarms() -> None:
    reading = VitalReading(T0, systolic=113, diastolic=70)
    assert check_vitals(IV, [], reading, pre_dose_systolic=140) == []  # 27/140 = 19.3%
    fall = check_vitals(IV, [], VitalReading(T0, systolic=100, diastolic=60), pre_dose_systolic=140)
    assert [a.code for a in fall] == [ALARM_BP_FALL]
    exactly = check_vitals(
        IV, [], VitalReading(T0, systolic=112, diastolic=60), pre_dose_systolic=140
    )
    assert exactly == []  # a 20% fall is not more than 20%
    low = check_vitals(IV, [], VitalReading(T0, systolic=85, diastolic=50), pre_dose_systolic=140)
    assert [a.code for a in low] == [ALARM_BP_LOW]


def test_the_pre_dose_systolic_must_be_a_positive_whole_number() -> None:
    with pytest.raises(InvalidInput):
        check_vitals(IV, [], VitalReading(T0, systolic=100, diastolic=60), pre_dose_systolic=0)


def test_clinic_thresholds_sound_sooner() -> None:
    tighter = tighten_alarms(IV.monitoring.alarms, {"heart_rate_below": 60, "spo2_below": 94})
    alarms = check_vitals(IV, [], VitalReading(T0, heart_rate=58, spo2=93), thresholds=tighter)
    assert [a.code for a in alarms] == ["heart_rate_low", "spo2_low"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"heart_rate_below": 40}, "heart_rate_below"),
        ({"heart_rate_above": 140}, "heart_rate_above"),
        ({"moaas_at_or_below": 6}, "moaas_at_or_below"),
        ({"spo2_below": 101}, "spo2_below"),
        ({"bp_confirm_after_min": 1}, "bp_confirm_after_min"),
        ({"heart_rate_below": True}, "heart_rate_below"),
        ({"systolic_below": -1}, "systolic_below"),
    ],
)
def test_a_clinic_may_not_loosen_an_alarm(changes: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        tighten_alarms(IV.monitoring.alarms, changes)
    assert error.value.field == field


def test_pre_dose_high_bp_at_the_recheck_limit_asks_the_prescriber() -> None:
    reading = VitalReading(
        T0, systolic=150, diastolic=85, heart_rate=70, respiratory_rate=14, spo2=98
    )
    assert check_pre_dose(IV, reading).status == "recheck"


def test_discharge_sees_sedation_dissociation_and_respiratory_depression_in_the_last_reading() -> (
    None
):
    criteria = dict.fromkeys(ESK.monitoring.discharge_criteria, True)
    later = T0 + timedelta(minutes=130)
    sedated = VitalReading(later, moaas=3, dissociation=True)
    check = discharge_check(ESK, T0, later, criteria, latest=sedated)
    assert not check.may_discharge
    assert set(check.contradicted) == {"sedation_resolved", "dissociation_resolved"}
    for reading, why in (
        (VitalReading(later, respiratory_depression=True), "respiratory depression"),
        (VitalReading(later, spo2=88), "SpO2 88%"),
        (VitalReading(later, respiratory_rate=7), "respiratory rate 7/min"),
    ):
        check = discharge_check(ESK, T0, later, criteria, latest=reading)
        assert check.contradicted == ("respiratory_depression_resolved",)
        assert why in check.reason
    calm = VitalReading(later, moaas=5, spo2=97, respiratory_rate=14)
    assert discharge_check(ESK, T0, later, criteria, latest=calm).may_discharge
    held = discharge_check(ESK, T0, later, criteria, latest=calm, unanswered_alarms=1)
    assert "no recorded action" in held.reason


def test_iv_discharge_may_be_overridden_by_policy() -> None:
    check = discharge_check(IV, T0, T0, {})
    assert (check.may_discharge, check.override_allowed) == (False, True)
    quiet = VitalReading(T0, moaas=3, respiratory_rate=7)  # IV criteria are the nurse's to tick
    assert discharge_check(IV, T0, T0, {}, latest=quiet).contradicted == ()


def test_a_profile_without_bp_among_its_required_vitals_still_needs_bp() -> None:
    import dataclasses

    monitoring = dataclasses.replace(IV.monitoring, pre_dose_required=("heart_rate",))
    protocol = dataclasses.replace(IV, monitoring=monitoring)
    check = check_pre_dose(protocol, VitalReading(T0, heart_rate=70))
    assert (check.status, check.missing) == ("incomplete", ("systolic",))


# --- route delivery as data --------------------------------------------------------------------


def test_every_protocol_gives_its_dose_as_its_route_says() -> None:
    deliveries = {p.route: p.delivery.delivery for p in load_protocols().values()}
    assert deliveries == {
        "iv": "infusion",
        "esketamine": "devices",
        "im": "injection",
        "sublingual": "lozenge",
    }
    assert load_deliveries()["oral"].ends_on_start
    assert ESK.delivery.rems and not IV.delivery.rems
    assert IV.delivery.pausable and IV.delivery.confirm_at_start[-1] == "rate_ml_per_h"


ROUTE = """
[routes.{route}]
delivery = "infusion"
label = "x"
start_label = "x"
order_inputs = {inputs}
confirm_at_start = {confirm}
pausable = {pausable}
devices = false
ends_on_start = true
rems = false
source = ["ketacare_reference"]
"""


@pytest.mark.parametrize(
    ("route", "inputs", "confirm", "pausable", "key"),
    [
        ("nasal", '["dose_mg"]', "[]", "false", "routes.nasal.delivery"),
        ("iv", '["speed"]', "[]", "false", "routes.iv.order_inputs[0]"),
        ("iv", '["dose_mg"]', '["lot"]', "false", "routes.iv.confirm_at_start[0]"),
        ("iv", '["dose_mg"]', "[]", "true", "routes.iv.pausable"),
        ("iv", '["dose_mg"]', "[]", "false", "routes"),
    ],
)
def test_route_data_is_validated(
    route: str, inputs: str, confirm: str, pausable: str, key: str
) -> None:
    text = ROUTE.format(route=route, inputs=inputs, confirm=confirm, pausable=pausable)
    with pytest.raises(DataError) as error:
        parse_deliveries(parse_document(text, "routes.toml"))
    assert error.value.key == key


# --- course history and alert urgency ----------------------------------------------------------


def test_with_no_dose_yet_the_baseline_is_the_latest_score_and_none_when_all_came_after() -> None:
    scores = [TimedScore(T0, 20), TimedScore(T0 + timedelta(days=1), 18)]
    assert baseline_index(scores, None) == 1
    assert baseline_index(scores, T0 - timedelta(minutes=1)) is None
    assert baseline_index([], T0) is None
    with pytest.raises(InvalidInput):
        baseline_index([TimedScore(datetime(2026, 3, 2), 3)], None)  # noqa: DTZ001
    with pytest.raises(InvalidInput):
        baseline_index(scores, datetime(2026, 3, 2))  # noqa: DTZ001


def test_titration_counts_days_since_the_last_increase() -> None:
    past = [
        PastDose(date(2026, 3, 2), D(50)),
        PastDose(date(2026, 3, 5), D(75)),
        PastDose(date(2026, 3, 8), D(75), None),
    ]
    assert titration(past, date(2026, 3, 10)).days_since_last_increase == 5
    assert titration([], date(2026, 3, 10)).previous_dose_mg is None
    first = titration(past[:1], date(2026, 3, 4))
    assert (first.previous_dose_mg, first.days_since_last_increase) == (D(50), 2)
    with pytest.raises(InvalidInput):
        titration(past, date(2026, 3, 1))


def test_alert_urgency_comes_from_the_core_and_fails_closed() -> None:
    assert urgency("cssrs_high") == IMMEDIATE
    assert urgency("suicidality") == SAME_DAY
    assert urgency("deterioration") == REVIEW
    assert urgency("heart_rate_low") == IMMEDIATE
    assert urgency("something new") == IMMEDIATE
    assert rank(IMMEDIATE) < rank(SAME_DAY) < rank(REVIEW)
    assert rank("unheard of") == 0
