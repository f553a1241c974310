"""Eligibility: every rule fires and does not fire; missing facts give needs review; TRD."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.eligibility import (
    ELIGIBLE,
    FACT_NAMES,
    INELIGIBLE,
    NEEDS_REVIEW,
    AntidepressantTrial,
    EligibilitySettings,
    IntakeFacts,
    adequate_failed_trials,
    rule_facts,
    screen,
)
from ketacare.clinical.protocols import get_protocol

TWO_FAILED = (
    AntidepressantTrial(
        "sertraline", weeks=8, outcome="no_response", adequate_dose=True, current_episode=True
    ),
    AntidepressantTrial(
        "bupropion",
        weeks=6,
        outcome="partial_response",
        dose_mg=300,
        min_therapeutic_dose_mg=150,
        current_episode=True,
    ),
)
CLEAN = IntakeFacts(
    age_years=40,
    weight_kg=Decimal(70),
    systolic_mmhg=120,
    diastolic_mmhg=80,
    diagnoses=["major_depressive_disorder"],
    psychiatric_history=[],
    medical_history=[],
    pregnant=False,
    breastfeeding=False,
    substance_use=[],
    medicines=["sertraline"],
    antidepressant_trials=TWO_FAILED,
    allergies=[],
)


def changed(**changes: Any) -> IntakeFacts:
    """The clean intake with some facts changed (possibly to malformed values)."""
    return dataclasses.replace(CLEAN, **changes)


# rule id -> (protocol to screen for, facts that make it fire) (reference §2).
FIRING: dict[str, tuple[str, dict[str, Any]]] = {
    "age_under_18": ("iv_induction_6x", {"age_years": 17}),
    "age_65_or_over": ("iv_induction_6x", {"age_years": 65}),
    "esketamine_needs_mdd": ("esketamine_trd", {"diagnoses": ["generalized_anxiety_disorder"]}),
    "trd_not_met": ("esketamine_trd", {"antidepressant_trials": TWO_FAILED[:1]}),
    "aneurysmal_vascular_disease": ("iv_induction_6x", {"medical_history": ["aortic_aneurysm"]}),
    "arteriovenous_malformation": (
        "esketamine_trd",
        {"medical_history": ["arteriovenous_malformation"]},
    ),
    "intracerebral_haemorrhage": (
        "im_titration",
        {"medical_history": ["intracerebral_haemorrhage"]},
    ),
    "bp_rise_serious_hazard": ("iv_induction_6x", {"medical_history": ["bp_rise_serious_hazard"]}),
    "hypersensitivity": ("iv_induction_6x", {"medical_history": ["hypersensitivity_ketamine"]}),
    "hypersensitivity_spravato_excipients": (
        "esketamine_trd",
        {"medical_history": ["hypersensitivity_spravato_excipients"]},
    ),
    "hepatic_impairment_severe_esketamine": (
        "esketamine_trd",
        {"medical_history": ["hepatic_impairment_severe"]},
    ),
    "pregnancy": ("sublingual_home", {"pregnant": True}),
    "bp_at_or_above_180_110": ("iv_induction_6x", {"systolic_mmhg": 150, "diastolic_mmhg": 110}),
    "theophylline_aminophylline": ("iv_induction_6x", {"medicines": ["Aminophylline 100 mg"]}),
    "bp_above_140_90": ("esketamine_trd", {"systolic_mmhg": 141, "diastolic_mmhg": 80}),
    "psychosis_history": ("iv_induction_6x", {"psychiatric_history": ["schizophrenia"]}),
    "substance_use_disorder": (
        "iv_induction_6x",
        {"diagnoses": ["major_depressive_disorder", "alcohol_use_disorder"]},
    ),
    "ketamine_misuse": ("iv_induction_6x", {"substance_use": ["ketamine"]}),
    "alcohol_use": ("iv_induction_6x", {"substance_use": ["Alcohol"]}),
    "cardio_cerebrovascular_disease": (
        "iv_induction_6x",
        {"medical_history": ["cerebrovascular_disease"]},
    ),
    "raised_intracranial_pressure": (
        "iv_induction_6x",
        {"medical_history": ["raised_intracranial_pressure"]},
    ),
    "hepatic_impairment_moderate": (
        "esketamine_trd",
        {"medical_history": ["hepatic_impairment_moderate"]},
    ),
    "hepatic_impairment_severe_racemic": (
        "iv_induction_6x",
        {"medical_history": ["hepatic_impairment_severe"]},
    ),
    "cystitis": ("iv_induction_6x", {"medical_history": ["interstitial_cystitis"]}),
    "hypertensive_encephalopathy_history": (
        "iv_induction_6x",
        {"medical_history": ["hypertensive_encephalopathy"]},
    ),
    "seizure_disorder": ("iv_induction_6x", {"medical_history": ["seizure_disorder"]}),
    "breastfeeding": ("esketamine_trd", {"breastfeeding": True}),
    "benzodiazepines": ("iv_induction_6x", {"medicines": ["sertraline", "clonazepam 0.5 mg"]}),
    "opioids": ("iv_induction_6x", {"medicines": ["tramadol"]}),
    "sedative_hypnotics": ("iv_induction_6x", {"medicines": ["zolpidem"]}),
    "psychostimulants": ("esketamine_trd", {"medicines": ["lisdexamfetamine"]}),
    "maois": ("esketamine_trd", {"medicines": ["phenelzine"]}),
    "possible_blunting": ("iv_induction_6x", {"medicines": ["lamotrigine"]}),
    "indication_not_matched": ("iv_induction_6x", {"diagnoses": ["F41.1"]}),
    "liver_disease_ungraded": ("iv_induction_6x", {"medical_history": ["cirrhosis"]}),
    "gabapentinoids": ("iv_induction_6x", {"medicines": ["Neurontin 300 mg"]}),
    "other_cns_depressants": ("esketamine_trd", {"medicines": ["sodium oxybate"]}),
    "non_prescribed_cns_depressants": ("iv_induction_6x", {"substance_use": ["opioids"]}),
    "non_prescribed_stimulants": ("iv_induction_6x", {"substance_use": ["stimulants"]}),
}
STATUS_FOR = {"exclude": INELIGIBLE, "caution": NEEDS_REVIEW, "info": ELIGIBLE}


def fired_ids(facts: IntakeFacts, protocol_id: str) -> list[str]:
    return [rule.rule_id for rule in screen(facts, protocol=get_protocol(protocol_id)).fired]


def test_every_rule_in_the_data_has_a_firing_case() -> None:
    assert set(FIRING) == set(rule_facts())


@pytest.mark.parametrize("rule_id", sorted(FIRING))
def test_each_rule_fires_on_its_facts(rule_id: str) -> None:
    # given
    protocol_id, changes = FIRING[rule_id]
    facts = changed(**changes)
    # when
    result = screen(facts, protocol=get_protocol(protocol_id))
    # then
    fired = {rule.rule_id: rule for rule in result.fired}
    assert rule_id in fired
    rule = fired[rule_id]
    assert rule.reason and rule.citation and rule.facts_used
    if len(fired) == 1:
        assert result.status == STATUS_FOR[rule.severity]


@pytest.mark.parametrize("rule_id", sorted(FIRING))
def test_each_rule_does_not_fire_on_clean_facts(rule_id: str) -> None:
    protocol_id, _ = FIRING[rule_id]
    result = screen(CLEAN, protocol=get_protocol(protocol_id))
    assert (result.status, result.fired, result.missing_facts) == (ELIGIBLE, [], [])


@pytest.mark.parametrize(
    ("changes", "rule_id"),
    [
        ({"age_years": 18}, "age_under_18"),
        ({"age_years": 64}, "age_65_or_over"),
        ({"systolic_mmhg": 179, "diastolic_mmhg": 109}, "bp_at_or_above_180_110"),
        ({"systolic_mmhg": 140, "diastolic_mmhg": 90}, "bp_above_140_90"),
        ({"medicines": ["clonazepamine"]}, "benzodiazepines"),
    ],
)
def test_rules_do_not_fire_just_inside_their_edges(
    changes: dict[str, object], rule_id: str
) -> None:
    assert rule_id not in fired_ids(changed(**changes), "esketamine_trd")


def test_esketamine_only_rules_do_not_apply_to_iv() -> None:
    facts = changed(medical_history=["hepatic_impairment_severe"])
    assert fired_ids(facts, "iv_induction_6x") == ["hepatic_impairment_severe_racemic"]
    assert "hepatic_impairment_severe_esketamine" in fired_ids(facts, "esketamine_trd")


def test_trd_rule_applies_only_to_protocols_that_require_it() -> None:
    facts = changed(antidepressant_trials=[])
    for protocol_id in ("esketamine_trd", "iv_induction_6x", "im_titration"):
        assert "trd_not_met" in fired_ids(facts, protocol_id)
    assert "trd_not_met" not in fired_ids(facts, "esketamine_suicidal")
    assert screen(facts, route="esketamine").status == ELIGIBLE


USED_FACTS = [name for name in FACT_NAMES if name != "weight_kg"]


@pytest.mark.parametrize("fact", USED_FACTS)
def test_a_missing_fact_a_rule_needs_gives_needs_review_and_names_it(fact: str) -> None:
    # given
    facts = changed(**{fact: None})
    # when
    result = screen(facts, protocol=get_protocol("esketamine_trd"))
    # then
    assert result.status == NEEDS_REVIEW
    assert fact in result.missing_facts
    assert result.unresolved_rules


def test_weight_is_not_used_by_any_rule_so_its_absence_changes_nothing() -> None:
    result = screen(changed(weight_kg=None), protocol=get_protocol("iv_induction_6x"))
    assert result.status == ELIGIBLE
    assert "weight_kg" not in result.facts_used


def test_an_empty_intake_names_every_missing_fact() -> None:
    result = screen(IntakeFacts(), protocol=get_protocol("esketamine_trd"))
    assert result.status == NEEDS_REVIEW
    assert set(result.missing_facts) == set(USED_FACTS)


def test_an_exclusion_wins_over_missing_facts() -> None:
    result = screen(IntakeFacts(pregnant=True), route="iv")
    assert result.status == INELIGIBLE
    assert "age_years" in result.missing_facts


def test_one_bp_value_missing_still_fires_on_the_other() -> None:
    facts = changed(systolic_mmhg=None, diastolic_mmhg=112)
    result = screen(facts, route="iv")
    assert "bp_at_or_above_180_110" in [rule.rule_id for rule in result.fired]


def test_a_missing_code_list_still_fires_on_the_other_list() -> None:
    facts = changed(psychiatric_history=None, diagnoses=["major_depressive_disorder", "psychosis"])
    assert "psychosis_history" in fired_ids(facts, "iv_induction_6x")


def test_mdd_rule_with_unknown_diagnoses_is_unresolved_not_passed() -> None:
    result = screen(changed(diagnoses=None), protocol=get_protocol("esketamine_suicidal"))
    assert "esketamine_needs_mdd" in result.unresolved_rules


def test_facts_used_lists_what_the_screening_depended_on() -> None:
    result = screen(CLEAN, protocol=get_protocol("esketamine_trd"))
    assert set(result.facts_used) == set(USED_FACTS)
    assert rule_facts()["bp_above_140_90"] == ("systolic_mmhg", "diastolic_mmhg")


def test_fired_rule_carries_the_matched_detail_and_citation() -> None:
    facts = changed(medicines=["theophylline ER"])
    [rule] = screen(facts, route="iv").fired
    assert (rule.rule_id, rule.severity) == ("theophylline_aminophylline", "exclude")
    assert rule.detail == (
        "medicines: theophylline ER → Theophylline and aminophylline (xanthines)"
    )
    assert "KETALAR PI" in rule.citation


def test_policy_rules_say_so_in_their_citation() -> None:
    [rule] = screen(changed(pregnant=True), route="iv").fired
    assert "policy default" in rule.citation


# --- treatment-resistant depression (Fava 2020; SUSTAIN-3; adequate = policy default) -------


def trial(drug: str, **kwargs: object) -> AntidepressantTrial:
    values: dict[str, object] = {
        "weeks": 8,
        "outcome": "no_response",
        "adequate_dose": True,
        "current_episode": True,
    }
    values.update(kwargs)
    return AntidepressantTrial(drug, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("trials", "expected"),
    [
        ([trial("sertraline"), trial("bupropion")], 2),
        ([trial("sertraline"), trial("bupropion", weeks=5)], 1),  # 5 weeks < 6: not adequate
        (
            [
                trial("sertraline"),
                trial("bupropion", adequate_dose=None, dose_mg=50, min_therapeutic_dose_mg=100),
            ],
            1,
        ),
        (
            [trial("sertraline"), trial("Zoloft 100 mg")],
            1,
        ),  # the same antidepressant twice counts once
        ([trial("sertraline"), trial("bupropion", outcome="response")], 1),
        ([trial("sertraline"), trial("bupropion", outcome="intolerance")], 1),
        ([trial("sertraline"), trial("bupropion", current_episode=False)], 1),
        (
            [
                trial("sertraline"),
                trial("bupropion", outcome="partial_response", weeks=Decimal("6.0")),
            ],
            2,
        ),
    ],
)
def test_adequate_failed_trials_are_counted_as_defined(
    trials: list[AntidepressantTrial], expected: int
) -> None:
    count, unknown = adequate_failed_trials(trials)
    assert (count, unknown) == (expected, [])


def test_unknown_trial_details_that_could_decide_trd_give_needs_review() -> None:
    facts = changed(
        antidepressant_trials=[trial("sertraline"), trial("bupropion", weeks=None, outcome=None)]
    )
    result = screen(facts, protocol=get_protocol("esketamine_trd"))
    assert result.status == NEEDS_REVIEW
    assert result.missing_facts == [
        "antidepressant_trials[1].outcome",
        "antidepressant_trials[1].weeks",
    ]


def test_unknown_trial_details_do_not_matter_once_trd_is_met() -> None:
    trials = [trial("sertraline"), trial("bupropion"), trial("venlafaxine", adequate_dose=None)]
    assert (
        screen(
            changed(antidepressant_trials=trials),
            protocol=get_protocol("esketamine_trd"),
        ).status
        == ELIGIBLE
    )


def test_a_clinic_may_require_longer_trials() -> None:
    trials = [trial("sertraline", weeks=6), trial("bupropion", weeks=8)]
    facts = changed(antidepressant_trials=trials)
    strict = EligibilitySettings(adequate_trial_min_weeks=8)
    assert (
        screen(facts, protocol=get_protocol("esketamine_trd"), settings=strict).status == INELIGIBLE
    )
    assert adequate_failed_trials(trials, settings=strict) == (1, [])
    assert (
        screen(
            facts, protocol=get_protocol("esketamine_trd"), settings=EligibilitySettings()
        ).status
        == ELIGIBLE
    )


def test_a_nonsense_clinic_setting_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        screen(CLEAN, route="iv", settings=EligibilitySettings(adequate_trial_min_weeks=0))


@pytest.mark.parametrize(
    ("trials", "field"),
    [
        ([trial("sertraline", outcome="better")], "antidepressant_trials[0].outcome"),
        ([trial(" ")], "antidepressant_trials[0].drug"),
        (["sertraline"], "antidepressant_trials[0]"),
        ([trial("sertraline", weeks="six")], "antidepressant_trials[0].weeks"),
        ("sertraline", "antidepressant_trials"),
    ],
)
def test_malformed_trials_are_rejected(trials: object, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        screen(
            changed(antidepressant_trials=trials),
            protocol=get_protocol("esketamine_trd"),
        )
    assert error.value.field == field


# --- input validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        (changed(medicines="sertraline"), "medicines"),
        (changed(medicines=[3]), "medicines[0]"),
        (changed(pregnant="no"), "pregnant"),
        (changed(age_years="40"), "age_years"),
        (changed(systolic_mmhg=True), "systolic_mmhg"),
    ],
)
def test_malformed_facts_are_rejected_naming_the_fact(facts: IntakeFacts, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        screen(facts, route="iv")
    assert error.value.field == field


def test_screen_needs_a_protocol_or_a_route() -> None:
    with pytest.raises(InvalidInput) as error:
        screen(CLEAN)
    assert error.value.field == "route"


def test_screen_needs_intake_facts() -> None:
    with pytest.raises(InvalidInput):
        screen({"age_years": 40}, route="iv")  # type: ignore[arg-type]
