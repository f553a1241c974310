"""The effective-dated rules for prescribing ketamine after a telemedicine visit (reference §7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.telehealth import (
    PrescriptionFacts,
    check_prescription,
    configure,
    load_telehealth_rules,
)

# A telemedicine prescription with everything recorded and no in-person evaluation.
VIDEO_ONLY = PrescriptionFacts(
    issued_on=date(2026, 6, 1),
    legal_basis="telemedicine_flexibility",
    modality="audio_video",
    patient_state="CA",
    dea_registration_state="CA",
    dea_registration_current=True,
    in_person_evaluation_on=None,
    pdmp_checked_on=date(2026, 6, 1),
    pdmp_result="no_findings",
)


def codes(facts: PrescriptionFacts, **rules: object) -> list[str]:
    return [b.code for b in check_prescription(facts, **rules)]  # type: ignore[arg-type]


def test_a_video_prescription_without_an_in_person_evaluation_passes_on_31_december_2026() -> None:
    # 90 FR 61301: the flexibilities run through 31 Dec 2026
    assert (
        codes(replace(VIDEO_ONLY, issued_on=date(2026, 12, 31), pdmp_checked_on=date(2026, 12, 31)))
        == []
    )


def test_the_same_prescription_dated_1_january_2027_is_refused_under_the_shipped_rules() -> None:
    facts = replace(VIDEO_ONLY, issued_on=date(2027, 1, 1), pdmp_checked_on=date(2027, 1, 1))
    blockers = check_prescription(facts)
    assert [b.code for b in blockers] == ["rx_legal_basis_not_allowed"]
    assert "In-person medical evaluation" in blockers[0].reason


def test_from_2027_an_in_person_evaluation_basis_needs_the_evaluation_date() -> None:
    facts = replace(
        VIDEO_ONLY,
        issued_on=date(2027, 1, 1),
        pdmp_checked_on=date(2027, 1, 1),
        legal_basis="in_person_evaluation",
    )
    assert codes(facts) == ["rx_in_person_evaluation_required"]
    assert codes(replace(facts, in_person_evaluation_on=date(2026, 11, 2))) == []


def test_a_clinic_may_configure_the_bases_from_2027_when_a_rule_changes() -> None:
    # given a fifth extension: the clinic allows the flexibility basis again from 2027
    rules = configure(load_telehealth_rules(), {"from_2027": ("telemedicine_flexibility",)})
    facts = replace(VIDEO_ONLY, issued_on=date(2027, 3, 1), pdmp_checked_on=date(2027, 3, 1))
    # then the prescription passes under the configured rules, not under the shipped ones
    assert codes(facts, rules=rules) == []
    assert codes(facts) == ["rx_legal_basis_not_allowed"]


@pytest.mark.parametrize(
    ("period", "bases"),
    [
        ("flexibilities_through_2026", ("in_person_evaluation",)),  # not configurable
        ("no_such_period", ("in_person_evaluation",)),
        ("from_2027", ("made_up_basis",)),
        ("from_2027", ()),
    ],
)
def test_only_the_configurable_period_takes_known_bases(
    period: str, bases: tuple[str, ...]
) -> None:
    with pytest.raises(InvalidInput):
        configure(load_telehealth_rules(), {period: bases})


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"issued_on": date(2024, 12, 31), "pdmp_checked_on": date(2024, 12, 31)},
            "rx_no_rule_for_date",
        ),
        ({"legal_basis": None}, "rx_legal_basis_missing"),
        ({"legal_basis": "special_registration"}, "rx_legal_basis_not_allowed"),  # proposed only
        ({"legal_basis": "a_basis_nobody_knows"}, "rx_legal_basis_not_allowed"),
        ({"modality": None}, "rx_modality_missing"),
        ({"modality": "audio_only"}, "rx_modality_not_allowed"),
        (
            {"in_person_evaluation_on": date(2026, 6, 2)},
            "rx_in_person_evaluation_after_prescription",
        ),
        ({"patient_state": None}, "rx_patient_state_missing"),
        ({"patient_state": " "}, "rx_patient_state_missing"),
        ({"dea_registration_state": "NY"}, "rx_dea_registration_not_for_state"),
        ({"dea_registration_state": None}, "rx_dea_registration_not_for_state"),
        ({"dea_registration_current": None}, "rx_dea_registration_not_for_state"),
        ({"dea_registration_current": False}, "rx_dea_registration_not_for_state"),
        ({"pdmp_checked_on": None}, "rx_pdmp_check_missing"),
        ({"pdmp_checked_on": date(2026, 6, 2)}, "rx_pdmp_check_after_prescription"),
        ({"pdmp_result": None}, "rx_pdmp_result_unknown"),
        ({"pdmp_result": "looked fine"}, "rx_pdmp_result_unknown"),
        ({"pdmp_result": "findings"}, "rx_pdmp_findings_unreviewed"),
    ],
)
def test_each_missing_or_wrong_fact_refuses_with_its_code(
    change: dict[str, object], code: str
) -> None:
    assert codes(replace(VIDEO_ONLY, **change)) == [code]  # type: ignore[arg-type]


def test_a_missing_pdmp_check_refuses_even_on_an_in_person_basis() -> None:
    facts = replace(
        VIDEO_ONLY,
        legal_basis="in_person_evaluation",
        modality="in_person",
        in_person_evaluation_on=date(2026, 6, 1),
        pdmp_checked_on=None,
    )
    assert codes(facts) == ["rx_pdmp_check_missing"]


def test_pdmp_findings_pass_once_the_prescriber_records_a_review() -> None:
    facts = replace(VIDEO_ONLY, pdmp_result="findings", pdmp_review_recorded=True)
    assert codes(facts) == []


def test_state_codes_compare_without_case_or_spaces() -> None:
    assert codes(replace(VIDEO_ONLY, patient_state=" ca", dea_registration_state="CA ")) == []


def test_several_problems_are_all_named() -> None:
    facts = replace(VIDEO_ONLY, modality=None, patient_state=None, pdmp_checked_on=None)
    assert codes(facts) == [
        "rx_modality_missing",
        "rx_patient_state_missing",
        "rx_pdmp_check_missing",
    ]


def test_the_shipped_periods_meet_at_the_expiry_and_the_later_one_is_policy() -> None:
    rules = load_telehealth_rules()
    first, later = rules.periods
    assert first.ends == date(2026, 12, 31)
    assert later.starts == date(2027, 1, 1)
    assert later.ends is None
    assert later.configurable
    assert later.citation.policy
    assert "90 FR 61301" in first.citation.render()
    assert rules.period_on(date(2024, 1, 1)) is None
