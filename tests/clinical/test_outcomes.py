"""Outcomes: response, partial response, remission, relapse signals and deterioration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketacare.clinical import InvalidInput
from ketacare.clinical.instruments import get_instrument
from ketacare.clinical.outcomes import (
    NO_RESPONSE,
    OUTCOMES,
    PARTIAL_RESPONSE,
    REMISSION,
    RESPONSE,
    classify,
    deterioration,
    load_outcome_rules,
    relapse_signal,
)

# Reference §5: response >= 50% fall; partial 25-49% (policy); remission PHQ-9 < 5, QIDS-SR16 <= 5,
# MADRS <= 10 (policy), GAD-7 < 5 (policy); remission takes precedence.
CLASSIFY_CASES = [
    ("phq9", 20, 4, REMISSION),  # 4 < 5
    ("phq9", 20, 5, RESPONSE),  # (20 - 5) / 20 = 75% fall, but 5 is not < 5
    ("phq9", 20, 10, RESPONSE),  # exactly 50%
    ("phq9", 20, 11, PARTIAL_RESPONSE),  # 45%
    ("phq9", 20, 15, PARTIAL_RESPONSE),  # exactly 25%
    ("phq9", 20, 16, NO_RESPONSE),  # 20%
    ("phq9", 20, 25, NO_RESPONSE),  # worse
    ("phq9", 3, 3, REMISSION),  # already in remission range: remission is a state
    ("qids_sr16", 16, 5, REMISSION),  # <= 5
    ("qids_sr16", 16, 6, RESPONSE),  # 62.5%
    ("madrs", 30, 10, REMISSION),  # <= 10
    ("madrs", 30, 11, RESPONSE),  # 63%
    ("madrs", 30, 15, RESPONSE),  # 50%
    ("madrs", 30, 22, PARTIAL_RESPONSE),  # 26.7%
    ("gad7", 16, 4, REMISSION),
    ("gad7", 16, 8, RESPONSE),
    ("pcl5", 60, 30, RESPONSE),  # no remission threshold: response rules only
    ("pcl5", 60, 0, RESPONSE),
    ("pcl5", 60, 45, PARTIAL_RESPONSE),  # 25%
    ("pcl5", 60, 46, NO_RESPONSE),
]


@pytest.mark.parametrize(("instrument_id", "baseline", "current", "expected"), CLASSIFY_CASES)
def test_classify_follows_the_reference_thresholds(
    instrument_id: str, baseline: int, current: int, expected: str
) -> None:
    assert classify(instrument_id, baseline, current) == expected


def test_madrs_23_from_30_is_a_fall_under_25_percent_and_no_response() -> None:
    # (30 - 23) / 30 = 23.3%
    assert classify("madrs", 30, 23) == NO_RESPONSE


@pytest.mark.parametrize(
    ("instrument_id", "current", "expected"),
    [("phq9", 0, REMISSION), ("phq9", 7, NO_RESPONSE), ("pcl5", 0, NO_RESPONSE)],
)
def test_a_baseline_of_zero_does_not_crash(instrument_id: str, current: int, expected: str) -> None:
    assert classify(instrument_id, 0, current) == expected


@pytest.mark.parametrize("instrument_id", ["cssrs_screen", "moaas", "pain_nrs"])
def test_scales_that_are_not_outcome_measures_cannot_be_classified(instrument_id: str) -> None:
    with pytest.raises(InvalidInput, match="not an outcome scale"):
        classify(instrument_id, 3, 1)


@pytest.mark.parametrize(
    ("baseline", "current", "field"), [(28, 3, "baseline_total"), (20, -1, "current_total")]
)
def test_totals_outside_the_scale_are_rejected(baseline: int, current: int, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        classify("phq9", baseline, current)
    assert error.value.field == field


def test_a_non_integer_total_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="integer"):
        classify("phq9", 20, 4.5)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["phq9", "gad7", "madrs", "qids_sr16", "pcl5"]), st.data())
def test_classification_never_improves_as_the_current_score_rises(
    instrument_id: str, data: st.DataObject
) -> None:
    top = get_instrument(instrument_id).max_total
    baseline = data.draw(st.integers(0, top))
    low = data.draw(st.integers(0, top))
    high = data.draw(st.integers(low, top))
    rank = {outcome: index for index, outcome in enumerate(OUTCOMES)}
    assert (
        rank[classify(instrument_id, baseline, low)]
        <= rank[classify(instrument_id, baseline, high)]
    )


START = date(2025, 1, 6)


def days(n: int) -> date:
    return START + timedelta(days=n)


def test_two_scores_back_above_half_baseline_5_to_15_days_apart_signal_relapse() -> None:
    # given baseline 24; response at 10 (58% fall); then 13 and 14, 7 days apart (> 24 x 0.5 = 12)
    scores = [(days(0), 10), (days(14), 13), (days(21), 14)]
    # when
    signal = relapse_signal("phq9", scores, 24)
    # then
    assert signal is not None
    assert (signal.kind, signal.responded_on, signal.detected_on) == ("scores", days(0), days(21))
    assert signal.evidence == ((days(14), 13), (days(21), 14))


def test_scores_in_an_unsorted_series_are_sorted_by_date() -> None:
    scores = [(days(21), 14), (days(0), 10), (days(14), 13)]
    signal = relapse_signal("phq9", scores, 24)
    assert signal is not None and signal.detected_on == days(21)


def test_return_to_the_moderate_band_after_leaving_it_signals_relapse() -> None:
    # baseline 27; 8 (mild: a response, not remission); then 13 and 13: not above 13.5,
    # but back in the moderate band
    signal = relapse_signal("phq9", [(days(0), 8), (days(7), 13), (days(14), 13)], 27)
    assert signal is not None and signal.evidence == ((days(7), 13), (days(14), 13))


def test_a_responder_who_never_left_the_moderate_band_is_not_relapsing_while_below_half() -> None:
    # baseline 27 -> 13 is a response (52%) but still moderate; staying at 13 is not a relapse
    assert relapse_signal("phq9", [(days(0), 13), (days(7), 13), (days(14), 13)], 27) is None


@pytest.mark.parametrize("gap", [4, 16])
def test_two_high_scores_outside_5_to_15_days_do_not_signal(gap: int) -> None:
    scores = [(days(0), 4), (days(10), 14), (days(10 + gap), 14)]
    assert relapse_signal("phq9", scores, 24) is None


@pytest.mark.parametrize("gap", [5, 15])
def test_two_high_scores_exactly_5_or_15_days_apart_signal(gap: int) -> None:
    scores = [(days(0), 4), (days(10), 14), (days(10 + gap), 14)]
    assert relapse_signal("phq9", scores, 24) is not None


def test_a_single_high_score_between_good_ones_does_not_signal() -> None:
    scores = [(days(0), 4), (days(7), 14), (days(14), 5), (days(21), 14)]
    assert relapse_signal("phq9", scores, 24) is None


def test_no_relapse_without_a_prior_response() -> None:
    scores = [(days(0), 20), (days(7), 20), (days(14), 21)]
    assert relapse_signal("phq9", scores, 24) is None


def test_a_suicide_attempt_after_response_signals_relapse() -> None:
    signal = relapse_signal("phq9", [(days(0), 4)], 24, events=[(days(3), "suicide_attempt")])
    assert signal is not None
    assert (signal.kind, signal.detected_on, signal.evidence) == ("suicide_attempt", days(3), ())


def test_a_hospitalisation_before_response_is_not_a_relapse() -> None:
    assert relapse_signal("phq9", [(days(5), 4)], 24, events=[(days(1), "hospitalisation")]) is None


def test_the_earliest_signal_wins() -> None:
    scores = [(days(0), 4), (days(7), 14), (days(14), 14)]
    signal = relapse_signal("phq9", scores, 24, events=[(days(20), "hospitalisation")])
    assert signal is not None and signal.kind == "scores"


def test_datetimes_are_accepted_as_dates() -> None:
    at = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    scores = [(at, 4), (at + timedelta(days=7), 14), (at + timedelta(days=14), 14)]
    signal = relapse_signal("phq9", scores, 24)
    assert signal is not None and signal.detected_on == date(2025, 1, 20)


def test_an_unknown_relapse_event_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="unknown relapse event") as error:
        relapse_signal("phq9", [(days(0), 4)], 24, events=[(days(1), "er_visit")])
    assert error.value.field == "events[0]"


def test_a_score_without_a_date_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="needs a date") as error:
        relapse_signal("phq9", [("2025-01-01", 4)], 24)  # type: ignore[list-item]
    assert error.value.field == "scores[0]"


def test_relapse_for_pcl5_uses_the_response_level_only() -> None:
    scores = [(days(0), 20), (days(7), 31), (days(14), 33)]
    signal = relapse_signal("pcl5", scores, 60)
    assert signal is not None and signal.detected_on == days(14)


# Deterioration: PHQ-9 rise >= 5 (Löwe 2004); GAD-7 >= 4 (Toussaint 2020);
# PCL-5 >= 10 (reference §4).
@pytest.mark.parametrize(
    ("instrument_id", "previous", "current", "expected"),
    [
        ("phq9", 5, 10, True),
        ("phq9", 5, 9, False),
        ("phq9", 10, 5, False),
        ("gad7", 3, 7, True),
        ("gad7", 3, 6, False),
        ("pcl5", 20, 30, True),
        ("pcl5", 20, 29, False),
    ],
)
def test_deterioration_is_a_rise_of_at_least_the_cited_difference(
    instrument_id: str, previous: int, current: int, expected: bool
) -> None:
    assert deterioration(instrument_id, previous, current) is expected


def test_deterioration_without_a_cited_threshold_is_refused_not_silently_false() -> None:
    with pytest.raises(InvalidInput, match="no deterioration threshold"):
        deterioration("madrs", 10, 30)


def test_outcome_rules_cite_their_sources() -> None:
    rules = load_outcome_rules()
    assert rules.partial_citation.policy
    assert rules.remission["madrs"].citation.policy
    assert not rules.remission["phq9"].citation.policy
