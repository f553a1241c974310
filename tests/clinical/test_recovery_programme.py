"""Substance-use programme outcomes from a Timeline Followback calendar; Part 2 disclosures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical import recovery as r

START = date(2026, 1, 1)


def days(count: int, used: set[int] | None = None, skip: set[int] | None = None) -> list[r.UseDay]:
    used, skip = used or set(), skip or set()
    return [
        r.UseDay(START + timedelta(days=i), i in used, "2 drinks" if i in used else "")
        for i in range(count)
        if i not in skip
    ]


def test_percent_days_abstinent_counts_recorded_days_only() -> None:
    out = r.programme_outcomes(
        start=START, today=START + timedelta(days=9), days=days(10, {2, 3}, {9})
    )
    assert (out.days_recorded, out.days_unrecorded, out.days_used) == (9, 1, 2)
    assert out.percent_days_abstinent == pytest.approx(77.8)
    assert out.time_to_first_use_days == 2
    assert out.current_abstinent_streak == 0  # today is unrecorded: no streak claimed


def test_relapse_at_three_and_six_months() -> None:
    today = START + timedelta(days=200)
    clean = r.programme_outcomes(start=START, today=today, days=days(201))
    assert clean.relapse_by_day == {90: False, 180: False}
    assert clean.current_abstinent_streak == 201
    late_use = r.programme_outcomes(start=START, today=today, days=days(201, {120}))
    assert late_use.relapse_by_day == {90: False, 180: True}


def test_relapse_is_unknown_while_days_are_unrecorded_or_the_window_is_open() -> None:
    gap = r.programme_outcomes(
        start=START, today=START + timedelta(days=100), days=days(101, skip={5})
    )
    assert gap.relapse_by_day == {90: None, 180: None}
    assert gap.percent_days_abstinent == 100.0


def test_no_recorded_days_gives_no_percentage() -> None:
    out = r.programme_outcomes(start=START, today=START, days=[])
    assert out.percent_days_abstinent is None and out.time_to_first_use_days is None


@pytest.mark.parametrize(
    ("start", "entries"),
    [(START + timedelta(days=5), []), (START, [r.UseDay(START + timedelta(days=40), True)])],
)
def test_days_outside_the_programme_are_refused(start: date, entries: list[r.UseDay]) -> None:
    with pytest.raises(InvalidInput):
        r.programme_outcomes(start=start, today=START + timedelta(days=1), days=entries)


TODAY = date(2026, 3, 1)
TPO_CONSENT = r.ConsentOnFile(r.TPO, "any", date(2026, 2, 1), None, None)
RESEARCH_CONSENT = r.ConsentOnFile(
    frozenset({r.RESEARCH}), "Uni Study", date(2026, 2, 1), None, None
)


@pytest.mark.parametrize(
    ("purpose", "recipient", "consents", "allowed"),
    [
        (r.TREATMENT, "Dr Who", [], False),
        (r.TREATMENT, "Dr Who", [TPO_CONSENT], True),  # one consent covers TPO
        (r.PAYMENT, "Insurer", [TPO_CONSENT], True),
        (r.RESEARCH, "Uni Study", [TPO_CONSENT], False),  # others need their own
        (r.RESEARCH, "Uni Study", [RESEARCH_CONSENT], True),
        (r.RESEARCH, "Other Study", [RESEARCH_CONSENT], False),
        (r.PATIENT_REQUEST, "the patient", [], True),
        (r.TREATMENT, "Dr Who", [TPO_CONSENT.__class__(r.TPO, "", TODAY, None, TODAY)], False),
        (r.TREATMENT, "Dr Who", [TPO_CONSENT.__class__(r.TPO, "", TODAY, date(2026, 2, 28), None)],
         False),
    ],
)  # fmt: skip
def test_part2_disclosure_needs_a_current_consent_for_its_purpose(
    purpose: str, recipient: str, consents: list[r.ConsentOnFile], allowed: bool
) -> None:
    decision = r.disclosure_decide(
        purpose=purpose, recipient=recipient, consents=consents, today=TODAY
    )
    assert decision.allowed is allowed
    assert decision.code in ({"consented", "patient_request"} if allowed else {"no_consent"})


def test_an_unknown_purpose_is_refused() -> None:
    with pytest.raises(InvalidInput):
        r.disclosure_decide(purpose="curiosity", recipient="x", consents=[], today=TODAY)


def test_the_redisclosure_notice_names_part_2() -> None:
    assert "42 CFR part 2" in r.REDISCLOSURE_NOTICE
    assert "NOT sufficient" in r.REDISCLOSURE_NOTICE_FULL


# 42 CFR 2.32(a)(1) Statement 1 as amended in 2024, up to the list of conditions: the part
# re-read word for word (compliancecosmos.org, "§ 2.32 Notice and copy of consent to accompany
# disclosure"); the superseded 2018 text began "This information has been disclosed to you".
STATEMENT_1_OPENING_2024 = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or testimony "
    "that describes the information contained in this record, in any civil, criminal, "
    "administrative, or legislative proceedings by any Federal, State, or local authority, "
    "against the patient, unless authorized by the consent of the patient, except as provided at "
    "42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In "
    "addition, the Federal rules prohibit you from making any other use or disclosure of this "
    "record unless at least one of the following applies:"
)


def test_the_full_notice_is_the_2024_statement_word_for_word() -> None:
    assert r.REDISCLOSURE_NOTICE_FULL.startswith(STATEMENT_1_OPENING_2024)
    assert "This information has been disclosed to you" not in r.REDISCLOSURE_NOTICE_FULL


def test_the_short_notice_is_the_2024_statement_2() -> None:
    # 2018: "42 CFR part 2 prohibits unauthorized disclosure of these records."; 2024 adds "use or"
    assert r.REDISCLOSURE_NOTICE == (
        "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    )


def test_a_disclosure_explains_the_scope_of_its_consent() -> None:
    consent = r.ConsentOnFile(
        frozenset({r.TREATMENT, r.PAYMENT, r.OPERATIONS}), "", date(2026, 3, 1), None, None
    )
    assert r.consent_scope(consent) == (
        "Scope of the patient's written consent signed on 2026-03-01: use and disclosure for "
        "treatment, payment and health care operations; to any recipient for these purposes; "
        "with no end date."
    )
    named = r.ConsentOnFile(
        frozenset({r.RESEARCH}), "Lakeside study", date(2026, 3, 1), date(2027, 3, 1), None
    )
    assert "for research; to Lakeside study; until 2027-03-01." in r.consent_scope(named)
    revoked = r.ConsentOnFile(
        frozenset({r.TREATMENT}), "", date(2026, 3, 1), None, date(2026, 4, 1)
    )
    assert r.consent_scope(revoked).endswith("with no end date; revoked on 2026-04-01.")


def test_a_consent_without_a_purpose_has_no_scope() -> None:
    with pytest.raises(InvalidInput) as error:
        r.consent_scope(r.ConsentOnFile(frozenset(), "", date(2026, 3, 1), None, None))
    assert error.value.field == "purposes"


def test_programmes_pool_their_outcomes_for_the_dashboard() -> None:
    # given three programmes: one used on day 10, one abstinent through six months, one new
    today = START + timedelta(days=199)
    lapsed = r.programme_outcomes(start=START, today=today, days=days(200, used={10, 11}))
    clean = r.programme_outcomes(start=START, today=today, days=days(200))
    new = r.programme_outcomes(start=today - timedelta(days=4), today=today, days=[])
    # when they are pooled
    summary = r.programmes_summary([lapsed, clean, new])
    # then abstinence is over recorded days only, first use over those who used
    assert summary.programmes == 3
    assert summary.days_recorded == 400
    assert summary.percent_days_abstinent == 99.5
    assert (summary.with_use, summary.median_time_to_first_use_days) == (1, 10.0)
    assert [(c.window_days, c.relapsed, c.not_relapsed, c.unknown) for c in summary.relapse] == [
        (90, 1, 1, 1),
        (180, 1, 1, 1),
    ]


def test_no_programme_pools_to_nothing_known() -> None:
    summary = r.programmes_summary([])
    assert summary.percent_days_abstinent is None
    assert summary.median_time_to_first_use_days is None
