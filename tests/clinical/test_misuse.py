"""Misuse and dependence signals: each from a table of cases, with and without its evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical import misuse as m

TODAY = date(2026, 6, 30)


def day(ago: int) -> date:
    return TODAY - timedelta(days=ago)


def fact(kind: str, ago: int = 1, ref: str = "") -> m.Fact:
    return m.Fact(kind, day(ago), f"{kind} {ago} days ago", ref or f"{kind}:{ago}")


def dose(ago: int, mg: str, step: str | None = "25", min_days: int | None = 3,
         top: str | None = "300") -> m.DoseStep:  # fmt: skip
    return m.DoseStep(
        day(ago), Decimal(mg), "mg", Decimal(step) if step else None, min_days,
        Decimal(top) if top else None, f"dose:{ago}",
    )  # fmt: skip


def screen(substance: str, result: str = "positive", *, expected: bool = False,
           confirmed: bool = True, ago: int = 2) -> m.DrugScreen:  # fmt: skip
    return m.DrugScreen(day(ago), substance, result, expected, confirmed, f"uds:{substance}")


def rating(ago: int, total: int) -> m.Rating:
    return m.Rating(day(ago), total, f"r:{ago}")


def ids(facts: m.MisuseFacts) -> set[str]:
    return {signal.id for signal in m.assess(facts).signals}


# Each signal from its evidence: (signal, facts that make it, facts that do not).
CASES = [
    # Doses beyond titration (Al Shirawi 2017 steps of 25 mg, every 3 days; policy: 2 in 90 days)
    ("dose_escalation",
     m.MisuseFacts(TODAY, doses=(dose(40, "50"), dose(30, "100"), dose(20, "150"))),
     m.MisuseFacts(TODAY, doses=(dose(40, "50"), dose(30, "75"), dose(20, "100")))),
    ("session_requests",
     m.MisuseFacts(TODAY, events=(fact(m.SESSION_REQUEST_EARLIER, 3),
                                  fact(m.SESSION_REQUEST_MORE, 10))),
     m.MisuseFacts(TODAY, events=(fact(m.SESSION_REQUEST_EARLIER, 3),))),
    ("early_refill",
     m.MisuseFacts(TODAY, events=(fact(m.EARLY_REFILL, 5), fact(m.EARLY_REFILL, 50))),
     m.MisuseFacts(TODAY, events=(fact(m.EARLY_REFILL, 5),))),
    ("lost_dose",
     m.MisuseFacts(TODAY, events=(fact(m.DOSE_LOST, 4),)),
     m.MisuseFacts(TODAY, events=(fact(m.DOSE_LOST, 400),))),
    ("trackers_missed",
     m.MisuseFacts(TODAY, events=(fact(m.TRACKER_MISSED, 2), fact(m.TRACKER_LATE, 9),
                                  fact(m.TRACKER_MISSED, 16))),
     m.MisuseFacts(TODAY, events=(fact(m.TRACKER_MISSED, 2), fact(m.TRACKER_LATE, 9)))),
    ("use_outside_plan",
     m.MisuseFacts(TODAY, events=(fact(m.USE_OUTSIDE_PLAN, 1),)),
     m.MisuseFacts(TODAY)),
    ("positive_drug_screen",
     m.MisuseFacts(TODAY, drug_screens=(screen("cocaine"),)),
     m.MisuseFacts(TODAY, drug_screens=(screen("ketamine", expected=True),
                                        screen("cocaine", "negative")))),
    ("pdmp_finding",
     m.MisuseFacts(TODAY, events=(fact(m.PDMP_FINDING, 6),)),
     m.MisuseFacts(TODAY)),
    # Craving: 2 points or more within 60 days (policy default)
    ("craving_rising",
     m.MisuseFacts(TODAY, craving=(rating(30, 2), rating(15, 3), rating(1, 5))),
     m.MisuseFacts(TODAY, craving=(rating(30, 2), rating(1, 3)))),
    # Bladder checklist: two more symptoms within 180 days (policy default)
    ("bladder_rising",
     m.MisuseFacts(TODAY, bladder=(rating(90, 0), rating(2, 2))),
     m.MisuseFacts(TODAY, bladder=(rating(90, 1), rating(2, 2)))),
]  # fmt: skip


@pytest.mark.parametrize(("signal", "with_evidence", "without"), CASES, ids=[c[0] for c in CASES])
def test_each_signal_is_raised_with_its_evidence_and_not_without(
    signal: str, with_evidence: m.MisuseFacts, without: m.MisuseFacts
) -> None:
    # when
    raised = m.assess(with_evidence)
    # then
    found = [s for s in raised.signals if s.id == signal]
    assert found, f"{signal} not raised"
    assert found[0].evidence, "a signal always carries its evidence"
    assert all(e.ref for e in found[0].evidence)
    assert signal not in ids(without)


SINGLE_AMBIGUOUS = [
    m.MisuseFacts(TODAY, events=(fact(m.EARLY_REFILL),)),
    m.MisuseFacts(TODAY, events=(fact(m.SESSION_REQUEST_MORE),)),
    m.MisuseFacts(TODAY, events=(fact(m.TRACKER_MISSED),)),
    m.MisuseFacts(TODAY, events=(fact(m.TRACKER_LATE),)),
    m.MisuseFacts(TODAY, doses=(dose(10, "50"), dose(9, "100"))),
    m.MisuseFacts(TODAY, drug_screens=(screen("cocaine", confirmed=False),)),
    m.MisuseFacts(TODAY, drug_screens=(screen("any", "invalid"),)),
    m.MisuseFacts(TODAY, craving=(rating(1, 9),)),
    m.MisuseFacts(TODAY, bladder=(rating(1, 6),)),
]


@pytest.mark.parametrize("facts", SINGLE_AMBIGUOUS)
def test_a_single_ambiguous_fact_gives_no_signal(facts: m.MisuseFacts) -> None:
    assessment = m.assess(facts)
    assert assessment.signals == ()
    assert not assessment.needs_review
    assert not assessment.severe


def test_an_ambiguous_fact_counts_when_another_signal_corroborates_it() -> None:
    # given one early refill (ambiguous) and a lost dose (not)
    facts = m.MisuseFacts(TODAY, events=(fact(m.EARLY_REFILL, 3), fact(m.DOSE_LOST, 2)))
    # when
    assessment = m.assess(facts)
    # then
    refill = next(s for s in assessment.signals if s.id == "early_refill")
    assert refill.corroborated_by == ("lost_dose",)
    assert "corroborated" in refill.rule


def test_two_presumptive_screens_make_a_signal_without_confirmation() -> None:
    facts = m.MisuseFacts(
        TODAY,
        drug_screens=(screen("cocaine", confirmed=False, ago=2),
                      screen("opiates", confirmed=False, ago=9)),
    )  # fmt: skip
    assert ids(facts) == {"positive_drug_screen"}


SEVERE = [
    ({m.EARLY_REFILL, m.DOSE_LOST}, True),  # the diversion pair
    ({m.DOSE_LOST, m.USE_OUTSIDE_PLAN}, True),
    ({m.PDMP_FINDING, m.DOSE_LOST}, False),  # two signals, not a listed pair
    ({m.DOSE_LOST}, False),
]


@pytest.mark.parametrize(("kinds", "severe"), SEVERE)
def test_severe_combinations_are_named(kinds: set[str], severe: bool) -> None:
    facts = m.MisuseFacts(TODAY, events=tuple(fact(k, 2) for k in sorted(kinds)))
    assessment = m.assess(facts)
    assert assessment.severe is severe
    assert bool(assessment.severe_reasons) is severe


def test_three_signals_at_once_are_severe() -> None:
    # given the walk: an early refill, a lost dose and rising craving
    facts = m.MisuseFacts(
        TODAY,
        events=(fact(m.EARLY_REFILL, 5), fact(m.DOSE_LOST, 3)),
        craving=(rating(20, 2), rating(1, 7)),
    )
    assessment = m.assess(facts)
    assert ids(facts) == {"early_refill", "lost_dose", "craving_rising"}
    assert assessment.severe
    assert any("3 signals" in r for r in assessment.severe_reasons)


def test_dose_evidence_names_the_step_and_the_titration() -> None:
    facts = m.MisuseFacts(TODAY, doses=(dose(10, "50"), dose(9, "100"), dose(8, "350")))
    signal = m.assess(facts).signals[0]
    assert "titration step 25" in signal.evidence[0].detail
    assert "1 days after the last dose (at least 3)" in signal.evidence[0].detail
    assert "above the protocol's range" in signal.evidence[1].detail


def test_doses_in_different_units_are_not_compared() -> None:
    facts = m.MisuseFacts(
        TODAY, doses=(dose(10, "0.5"), replace(dose(9, "100"), unit="mg/kg"), dose(8, "200"))
    )
    assert "dose_escalation" not in ids(facts)


def test_the_sources_not_checked_are_passed_on() -> None:
    facts = m.MisuseFacts(TODAY, not_checked=("at-home trackers",))
    assert m.assess(facts).not_checked == ("at-home trackers",)


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        (m.MisuseFacts(TODAY, events=(m.Fact("gossip", TODAY, "x", "y"),)), "events[0].kind"),
        (m.MisuseFacts(TODAY, events=(fact(m.DOSE_LOST, -1),)), "events[0].on"),
        (m.MisuseFacts(TODAY, drug_screens=(screen("x", "maybe"),)), "result"),
    ],
)
def test_unknown_or_future_facts_are_refused(facts: m.MisuseFacts, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        m.assess(facts)
    assert raised.value.field == field


@pytest.mark.parametrize(("total", "alert"), [(0, False), (3, False), (4, True), (7, True)])
def test_withdrawal_alert_threshold_is_four_symptoms(total: int, alert: bool) -> None:
    assert m.withdrawal_alert(total) is alert


def test_a_negative_withdrawal_count_is_refused() -> None:
    with pytest.raises(InvalidInput):
        m.withdrawal_alert(-1)


def test_every_threshold_is_labelled_policy_or_cited() -> None:
    rules = m.load_misuse_rules()
    for rule in rules.signals:
        assert rule.citation.policy, rule.id
        assert rule.citation.source_ids
    assert rules.craving.citation.policy and rules.bladder.citation.policy
    assert rules.severe_citation.policy and rules.withdrawal_citation.policy


def test_misuse_and_withdrawal_alerts_need_a_prescriber_the_same_day() -> None:
    from ketacare.clinical.alerts import SAME_DAY, urgency

    assert urgency(m.ALERT_MISUSE_SEVERE) == SAME_DAY
    assert urgency(m.ALERT_WITHDRAWAL) == SAME_DAY
