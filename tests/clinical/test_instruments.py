"""Rating scales: every band edge, extremes, alerts, domain scoring and input validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketacare.clinical import InvalidInput
from ketacare.clinical._data import list_documents
from ketacare.clinical.instruments import (
    INSTRUMENT_IDS,
    Code,
    Instrument,
    get_instrument,
    score,
)

SUM_SCORED = [i for i in INSTRUMENT_IDS if i != "cssrs_screen"]


def answers_for_total(instrument: Instrument, total: int) -> list[int]:
    """Answers in item order that reach `total` (one item per domain for domain scoring)."""
    answers = [item.min for item in instrument.items]
    remaining = total
    if instrument.scoring == "domains":
        slots = [domain.items[0] - 1 for domain in instrument.domains]
    else:
        slots = list(range(len(instrument.items)))
    for index in slots:
        step = min(remaining, instrument.items[index].max - instrument.items[index].min)
        answers[index] += step
        remaining -= step
    assert remaining == 0
    return answers


# Band edges (reference §4; Kroenke 2001, Spitzer 2006, Montgomery & Åsberg 1979, Rush 2003,
# Bovin 2016 / National Center for PTSD with the policy cut-point 33, Chernik 1990, Serlin 1995).
BAND_EDGES = [
    ("phq9", 0, "minimal"),
    ("phq9", 4, "minimal"),
    ("phq9", 5, "mild"),
    ("phq9", 9, "mild"),
    ("phq9", 10, "moderate"),
    ("phq9", 14, "moderate"),
    ("phq9", 15, "moderately severe"),
    ("phq9", 19, "moderately severe"),
    ("phq9", 20, "severe"),
    ("phq9", 27, "severe"),
    ("gad7", 0, "minimal"),
    ("gad7", 4, "minimal"),
    ("gad7", 5, "mild"),
    ("gad7", 9, "mild"),
    ("gad7", 10, "moderate"),
    ("gad7", 14, "moderate"),
    ("gad7", 15, "severe"),
    ("gad7", 21, "severe"),
    ("madrs", 0, "normal"),
    ("madrs", 6, "normal"),
    ("madrs", 7, "mild"),
    ("madrs", 19, "mild"),
    ("madrs", 20, "moderate"),
    ("madrs", 34, "moderate"),
    ("madrs", 35, "severe"),
    ("madrs", 60, "severe"),
    ("qids_sr16", 0, "none"),
    ("qids_sr16", 5, "none"),
    ("qids_sr16", 6, "mild"),
    ("qids_sr16", 10, "mild"),
    ("qids_sr16", 11, "moderate"),
    ("qids_sr16", 15, "moderate"),
    ("qids_sr16", 16, "severe"),
    ("qids_sr16", 20, "severe"),
    ("qids_sr16", 21, "very severe"),
    ("qids_sr16", 27, "very severe"),
    ("pcl5", 0, "below threshold"),
    ("pcl5", 32, "below threshold"),
    ("pcl5", 33, "probable ptsd"),
    ("pcl5", 80, "probable ptsd"),
    ("moaas", 0, "no response"),
    ("moaas", 1, "responds to painful stimulus"),
    ("moaas", 2, "responds to prodding"),
    ("moaas", 3, "responds to loud voice"),
    ("moaas", 4, "lethargic"),
    ("moaas", 5, "responds readily"),
    ("pain_nrs", 0, "no pain"),
    ("pain_nrs", 1, "mild"),
    ("pain_nrs", 4, "mild"),
    ("pain_nrs", 5, "moderate"),
    ("pain_nrs", 6, "moderate"),
    ("pain_nrs", 7, "severe"),
    ("pain_nrs", 10, "severe"),
    # Bush 1998 (AUDIT-C), Babor 2001 (AUDIT zones), Skinner 1982 (DAST-10).
    ("audit_c", 0, "below cut-point"),
    ("audit_c", 2, "below cut-point"),
    ("audit_c", 3, "positive for women only (3)"),
    ("audit_c", 4, "positive"),
    ("audit_c", 12, "positive"),
    ("audit", 0, "zone I (low risk)"),
    ("audit", 7, "zone I (low risk)"),
    ("audit", 8, "zone II (hazardous)"),
    ("audit", 15, "zone II (hazardous)"),
    ("audit", 16, "zone III (harmful)"),
    ("audit", 19, "zone III (harmful)"),
    ("audit", 20, "zone IV (possible dependence)"),
    ("audit", 40, "zone IV (possible dependence)"),
    ("dast10", 0, "no problems reported"),
    ("dast10", 1, "low"),
    ("dast10", 2, "low"),
    ("dast10", 3, "moderate"),
    ("dast10", 5, "moderate"),
    ("dast10", 6, "substantial"),
    ("dast10", 8, "substantial"),
    ("dast10", 9, "severe"),
    ("dast10", 10, "severe"),
    # One band: no validated cut-points (a rating and two checklists).
    ("craving_nrs", 0, "rating (no validated cut-points)"),
    ("craving_nrs", 10, "rating (no validated cut-points)"),
    ("ketamine_bladder_checklist", 0, "checklist (not a validated score)"),
    ("ketamine_bladder_checklist", 7, "checklist (not a validated score)"),
    ("ketamine_withdrawal_checklist", 0, "checklist (not a validated score)"),
    ("ketamine_withdrawal_checklist", 7, "checklist (not a validated score)"),
]


@pytest.mark.parametrize(("instrument_id", "total", "band"), BAND_EDGES)
def test_each_band_edge_scores_into_its_band(instrument_id: str, total: int, band: str) -> None:
    # given
    answers = answers_for_total(get_instrument(instrument_id), total)
    # when
    result = score(instrument_id, answers)
    # then
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize("instrument_id", SUM_SCORED)
def test_every_band_boundary_of_the_data_is_in_the_edge_table(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    tested = {(total, band) for iid, total, band in BAND_EDGES if iid == instrument_id}
    for band in instrument.bands:
        assert (band.min, band.name) in tested
        assert (band.max, band.name) in tested


@pytest.mark.parametrize("instrument_id", SUM_SCORED)
def test_all_lowest_answers_give_the_minimum_and_all_highest_the_maximum(
    instrument_id: str,
) -> None:
    instrument = get_instrument(instrument_id)
    lowest = score(instrument_id, [item.min for item in instrument.items])
    highest = score(instrument_id, [item.max for item in instrument.items])
    assert (lowest.total, lowest.band) == (instrument.min_total, instrument.bands[0].name)
    assert (highest.total, highest.band) == (instrument.max_total, instrument.bands[-1].name)
    assert highest.max_total == instrument.max_total


def test_phq9_hand_checked_case_sums_items() -> None:
    # given answers 1,2,1,2,1,0,1,1,0 (Kroenke 2001: total = sum = 9 -> mild)
    result = score("phq9", [1, 2, 1, 2, 1, 0, 1, 1, 0])
    assert (result.total, result.band, result.alerts) == (9, "mild", [])


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item_9_above_zero_raises_a_suicidality_alert(item9: int) -> None:
    result = score("phq9", [0] * 8 + [item9])
    assert result.alerts == ["suicidality"]
    assert result.band == "minimal"


def test_phq9_item_9_at_zero_raises_no_alert_even_when_severe() -> None:
    result = score("phq9", [3] * 8 + [0])
    assert (result.total, result.band, result.alerts) == (24, "severe", [])


def test_qids_scores_the_nine_domains_as_the_manual_says() -> None:
    # given: sleep items 1-4 = 1,3,0,2 -> max 3; sad 2; appetite/weight 6-9 = 0,2,1,0 -> max 2;
    # concentration 1; self-view 0; suicidal ideation 0; interest 2; energy 1;
    # psychomotor 15, 16 = 1, 3 -> 3
    answers = [1, 3, 0, 2, 2, 0, 2, 1, 0, 1, 0, 0, 2, 1, 1, 3]
    # when
    result = score("qids_sr16", answers)
    # then: 3 + 2 + 2 + 1 + 0 + 0 + 2 + 1 + 3 = 14 (Rush 2003) -> moderate
    assert result.domain_scores == {
        "sleep": 3,
        "sad_mood": 2,
        "appetite_weight": 2,
        "concentration": 1,
        "self_view": 0,
        "suicidal_ideation": 0,
        "interest": 2,
        "energy": 1,
        "psychomotor": 3,
    }
    assert (result.total, result.band, result.alerts) == (14, "moderate", [])


def test_qids_all_items_at_maximum_total_27_not_48() -> None:
    result = score("qids_sr16", [3] * 16)
    assert (result.total, result.band) == (27, "very severe")


@pytest.mark.parametrize("item12", [1, 2, 3])
def test_qids_item_12_above_zero_raises_a_suicidality_alert(item12: int) -> None:
    answers = [0] * 16
    answers[11] = item12
    assert score("qids_sr16", answers).alerts == ["suicidality"]


def test_pcl5_reports_cluster_sums_and_the_dsm5_provisional_diagnosis() -> None:
    # given B: item 1 = 2; C: item 6 = 2; D: items 8, 9 = 2; E: items 15, 16 = 2 (reference §4 rule)
    answers = [0] * 20
    for number in (1, 6, 8, 9, 15, 16):
        answers[number - 1] = 2
    result = score("pcl5", answers)
    assert result.domain_scores == {"cluster_b": 2, "cluster_c": 2, "cluster_d": 4, "cluster_e": 4}
    assert result.flags == {"dsm5_provisional_diagnosis": True}
    assert (result.total, result.band) == (12, "below threshold")


def test_pcl5_one_e_item_endorsed_is_not_a_provisional_diagnosis() -> None:
    answers = [4] * 14 + [2, 1, 1, 1, 1, 1]
    result = score("pcl5", answers)
    assert result.flags == {"dsm5_provisional_diagnosis": False}
    assert result.band == "probable ptsd"


# C-SSRS screener triage (Columbia Lighthouse Project; reference §4).
# Answers: Q1..Q6 then "Q6 within the past 3 months".
CSSRS_CASES = [
    ([0, 0, 0, 0, 0, 0], "none", []),
    ([1, 0, 0, 0, 0, 0], "low", []),
    ([1, 1, 0, 0, 0, 0], "low", []),
    ([0, 1, 0, 0, 0, 0], "low", []),
    ([1, 1, 1, 0, 0, 0], "moderate", ["cssrs_moderate"]),
    ([0, 0, 0, 0, 0, 1, 0], "moderate", ["cssrs_moderate"]),
    ([1, 1, 1, 1, 0, 0], "high", ["cssrs_high"]),
    ([1, 1, 1, 0, 1, 0], "high", ["cssrs_high"]),
    ([0, 0, 0, 0, 0, 1, 1], "high", ["cssrs_high"]),
    ([1, 1, 1, 1, 1, 1, 1], "high", ["cssrs_high"]),
]


@pytest.mark.parametrize(("answers", "band", "alerts"), CSSRS_CASES)
def test_cssrs_screener_triage_levels(answers: list[int], band: str, alerts: list[str]) -> None:
    result = score("cssrs_screen", answers)
    assert (result.band, result.alerts) == (band, alerts)
    assert result.total == sum(answers[:6])


def test_cssrs_accepts_booleans() -> None:
    result = score("cssrs_screen", [True, True, False, False, False, True, False])
    assert (result.total, result.band) == (3, "moderate")


def test_cssrs_never_discards_a_yes_recorded_despite_the_skip_logic() -> None:
    # Q2 no, but intent recorded yes at Q4: still high risk
    assert score("cssrs_screen", [1, 0, 0, 1, 0, 0]).band == "high"


def test_cssrs_q6_yes_without_its_recency_is_rejected_naming_the_item() -> None:
    with pytest.raises(InvalidInput) as error:
        score("cssrs_screen", [0, 0, 0, 0, 0, 1])
    assert error.value.field == "cssrs_q6_recent"


def test_cssrs_recency_yes_with_q6_no_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="cssrs_q6 is no") as error:
        score("cssrs_screen", [0, 0, 0, 0, 0, 0, 1])
    assert error.value.field == "cssrs_q6_recent"


@pytest.mark.parametrize(
    ("level", "alerts"), [(0, ["deep_sedation"]), (2, ["deep_sedation"]), (3, [])]
)
def test_moaas_at_or_below_2_raises_deep_sedation(level: int, alerts: list[str]) -> None:
    assert score("moaas", [level]).alerts == alerts


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
def test_one_answer_too_few_is_rejected_naming_the_missing_item(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    required = [item for item in instrument.items if item.required_if is None]
    with pytest.raises(InvalidInput, match="missing answer") as error:
        score(instrument_id, [item.min for item in required[:-1]])
    assert error.value.field == required[-1].id


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
def test_one_answer_too_many_is_rejected(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    with pytest.raises(InvalidInput, match="items; got") as error:
        score(instrument_id, [0] * (len(instrument.items) + 1))
    assert error.value.field == "answers"


@pytest.mark.parametrize(
    ("instrument_id", "position", "value"),
    [
        ("phq9", 3, 4),
        ("phq9", 0, -1),
        ("gad7", 6, 4),
        ("madrs", 9, 7),
        ("qids_sr16", 15, 4),
        ("pcl5", 19, 5),
        ("moaas", 0, 6),
        ("pain_nrs", 0, 11),
        ("cssrs_screen", 2, 2),
    ],
)
def test_an_answer_out_of_range_is_rejected_naming_the_item(
    instrument_id: str, position: int, value: int
) -> None:
    instrument = get_instrument(instrument_id)
    answers = [item.min for item in instrument.items if item.required_if is None]
    answers[position] = value
    with pytest.raises(InvalidInput, match="outside") as error:
        score(instrument_id, answers)
    assert error.value.field == instrument.items[position].id


@pytest.mark.parametrize("bad", [None, 1.0, "2", True])
def test_a_missing_or_non_integer_answer_is_rejected_and_never_prorated(bad: object) -> None:
    answers: list[object] = [0] * 9
    answers[4] = bad
    with pytest.raises(InvalidInput) as error:
        score("phq9", answers)  # type: ignore[arg-type]
    assert error.value.field == "phq9_q5"


@pytest.mark.parametrize("answers", ["000000000", 5, None])
def test_answers_that_are_not_a_sequence_are_rejected(answers: object) -> None:
    with pytest.raises(InvalidInput, match="sequence"):
        score("phq9", answers)  # type: ignore[arg-type]


def test_an_unknown_instrument_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="unknown instrument") as error:
        score("bdi", [0])
    assert error.value.field == "instrument_id"


def test_invalid_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="missing answer"):
        score("gad7", [])


def test_instrument_ids_match_the_packaged_data() -> None:
    assert sorted(f"instruments/{i}.toml" for i in INSTRUMENT_IDS) == list_documents("instruments")


def test_phq9_exposes_its_licensed_wording_options_and_loinc_codes() -> None:
    phq9 = get_instrument("phq9")
    assert [(o.value, o.label) for o in phq9.items[0].options] == [
        (0, "Not at all"),
        (1, "Several days"),
        (2, "More than half the days"),
        (3, "Nearly every day"),
    ]
    assert (
        phq9.items[8].text
        == "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert phq9.licence.wording_reproduced
    assert (phq9.panel_code and phq9.panel_code.code, phq9.total_code and phq9.total_code.code) == (
        "44249-1",
        "44261-6",
    )
    assert phq9.answer_kind == "integer"


def test_gad7_and_cssrs_carry_the_reference_loinc_codes() -> None:
    gad7 = get_instrument("gad7")
    cssrs = get_instrument("cssrs_screen")
    assert (gad7.panel_code, gad7.total_code) == (
        Code("LOINC", "69737-5"),
        Code("LOINC", "70274-6"),
    )
    assert [item.code.code for item in cssrs.items if item.code] == [
        "93246-7",
        "93247-5",
        "93248-3",
        "93249-1",
        "93250-9",
        "93267-3",
        "93269-9",
    ]
    assert cssrs.answer_kind == "yes_no"


@pytest.mark.parametrize("instrument_id", ["madrs", "qids_sr16"])
def test_instruments_without_a_confirmed_licence_store_labels_only(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    assert not instrument.licence.wording_reproduced
    assert all(item.text is None and item.label for item in instrument.items)


@pytest.mark.parametrize("instrument_id", ["madrs", "qids_sr16", "pcl5", "moaas", "pain_nrs"])
def test_scales_without_a_confirmed_loinc_code_use_a_local_code(instrument_id: str) -> None:
    code = get_instrument(instrument_id).total_code
    assert code is not None and code.system == "ketacare-local"


@pytest.mark.parametrize("instrument_id", SUM_SCORED)
def test_bands_are_monotonic_in_the_total(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    order = [band.name for band in instrument.bands]
    positions = [
        order.index(instrument.band_for(t))
        for t in range(instrument.min_total, instrument.max_total + 1)
    ]
    assert positions == sorted(positions)


def test_band_for_a_total_outside_the_range_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="outside"):
        get_instrument("phq9").band_for(28)


@st.composite
def valid_answers(draw: st.DrawFn) -> tuple[str, list[int]]:
    instrument_id = draw(st.sampled_from(INSTRUMENT_IDS))
    instrument = get_instrument(instrument_id)
    answers = [draw(st.sampled_from([o.value for o in item.options])) for item in instrument.items]
    if instrument.scoring == "triage" and not answers[5]:
        answers[6] = 0
    return instrument_id, answers


@settings(max_examples=60, deadline=None)
@given(valid_answers())
def test_any_valid_answers_give_a_total_in_range_and_the_band_of_that_total(
    case: tuple[str, list[int]],
) -> None:
    instrument_id, answers = case
    instrument = get_instrument(instrument_id)
    result = score(instrument_id, answers)
    assert instrument.min_total <= result.total <= instrument.max_total
    assert result.band in [band.name for band in instrument.bands]
    if instrument.scoring != "triage":
        assert result.band == instrument.band_for(result.total)
    assert isinstance(result.alerts, list)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SUM_SCORED), st.data())
def test_wrong_length_is_always_rejected(instrument_id: str, data: st.DataObject) -> None:
    instrument = get_instrument(instrument_id)
    length = data.draw(st.integers(0, 40).filter(lambda n: n != len(instrument.items)))
    with pytest.raises(InvalidInput):
        score(instrument_id, [0] * length)


@settings(max_examples=60, deadline=None)
@given(valid_answers().filter(lambda case: case[0] != "cssrs_screen"))
def test_raising_one_answer_never_lowers_the_total(case: tuple[str, list[int]]) -> None:
    instrument_id, answers = case
    instrument = get_instrument(instrument_id)
    before = score(instrument_id, answers).total
    for index, item in enumerate(instrument.items):
        higher = [o.value for o in item.options if o.value > answers[index]]
        if higher:
            raised = [*answers[:index], higher[0], *answers[index + 1 :]]
            assert score(instrument_id, raised).total >= before
