"""Screening fails closed: every recorded entry is understood, or the screening says which is not.

Each example the clinical review found (issue 8) is here with its new answer; each answered
`eligible` before the vocabularies and the indication rule.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketacare.clinical.eligibility import (
    ELIGIBLE,
    INELIGIBLE,
    NEEDS_REVIEW,
    AntidepressantTrial,
    IntakeFacts,
    ScreeningResult,
    screen,
)
from ketacare.clinical.protocols import get_protocol, load_protocols
from ketacare.clinical.vocabulary import load_vocabulary

FAILED: dict[str, Any] = {
    "weeks": 8,
    "outcome": "no_response",
    "adequate_dose": True,
    "current_episode": True,
}
CLEAN = IntakeFacts(
    age_years=40,
    weight_kg=Decimal(70),
    systolic_mmhg=120,
    diastolic_mmhg=80,
    diagnoses=["F33.1"],
    psychiatric_history=[],
    medical_history=[],
    pregnant=False,
    breastfeeding=False,
    substance_use=[],
    medicines=[],
    antidepressant_trials=[
        AntidepressantTrial("sertraline", **FAILED),
        AntidepressantTrial("Wellbutrin XL", **FAILED),
    ],
    allergies=[],
)


def run(protocol_id: str = "iv_induction_6x", **changes: Any) -> ScreeningResult:
    return screen(dataclasses.replace(CLEAN, **changes), protocol=get_protocol(protocol_id))


def fired(result: ScreeningResult) -> set[str]:
    return {rule.rule_id for rule in result.fired}


def test_the_clean_patient_is_eligible_for_every_protocol() -> None:
    for protocol_id in load_protocols():
        result = run(protocol_id)
        assert (result.status, result.fired, result.unrecognised) == (ELIGIBLE, [], [])


# --- history entries the rules did not know ----------------------------------------------------


def test_a_us_spelling_of_intracerebral_haemorrhage_excludes() -> None:
    # was: eligible, no rule fired
    result = run(medical_history=["intracerebral_hemorrhage"])
    assert result.status == INELIGIBLE
    assert "intracerebral_haemorrhage" in fired(result)


def test_abdominal_aortic_aneurysm_typed_as_free_text_excludes_through_its_synonym() -> None:
    # was: eligible, no rule fired
    result = run(medical_history=["abdominal aortic aneurysm"])
    assert result.status == INELIGIBLE
    [rule] = [r for r in result.fired if r.rule_id == "aneurysmal_vascular_disease"]
    assert "abdominal aortic aneurysm" in rule.detail


def test_a_misspelt_history_entry_is_needs_review_and_named() -> None:
    result = run(medical_history=["intracerebal haemorrhage"])
    assert result.status == NEEDS_REVIEW
    assert [(r.fact, r.entry) for r in result.unrecognised] == [
        ("medical_history", "intracerebal haemorrhage")
    ]
    assert any("intracerebal haemorrhage" in note for note in result.notes)


def test_anything_under_other_conditions_is_needs_review_and_named() -> None:
    # was: eligible (the screening read only the ticked boxes)
    result = run(medical_history=["Ehlers-Danlos syndrome"], psychiatric_history=["ptsd"])
    assert result.status == NEEDS_REVIEW
    assert [r.entry for r in result.unrecognised] == ["Ehlers-Danlos syndrome"]


def test_free_text_that_names_a_contraindication_fires_it_and_is_still_named() -> None:
    result = run(medical_history=["AAA repaired 2015"])
    assert result.status == INELIGIBLE
    assert "aneurysmal_vascular_disease" in fired(result)
    assert [r.entry for r in result.unrecognised] == ["AAA repaired 2015"]


def test_an_aneurysm_coded_as_a_diagnosis_counts_as_one() -> None:
    result = run(diagnoses=["F33.1", "I71.4"])
    assert result.status == INELIGIBLE
    assert "aneurysmal_vascular_disease" in fired(result)


@pytest.mark.parametrize("code", ["J45.909", "F41.1", "370143000"])
def test_codes_in_the_vocabulary_are_understood(code: str) -> None:
    assert run(diagnoses=["F33.1", code]).unrecognised == []


@pytest.mark.parametrize("code", ["Z00.00", "Q87.40", "999999999"])
def test_an_unknown_code_is_needs_review_and_named(code: str) -> None:
    result = run(diagnoses=["F33.1", code])
    assert result.status == NEEDS_REVIEW
    assert [r.entry for r in result.unrecognised] == [code]


def test_an_unknown_substance_is_needs_review() -> None:
    result = run(substance_use=["other"])
    assert result.status == NEEDS_REVIEW
    assert [r.entry for r in result.unrecognised] == ["other"]


# --- medicines, by ingredient ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("medicine", "rule_id"),
    [
        ("linezolid", "maois"),
        ("Zyvox 600 mg", "maois"),
        ("methylene blue", "maois"),
        ("gabapentin", "gabapentinoids"),
        ("pregabalin", "gabapentinoids"),
        ("Lyrica 75mg bid", "gabapentinoids"),
        ("sodium oxybate", "other_cns_depressants"),
        ("Xyrem", "other_cns_depressants"),
        ("carisoprodol", "other_cns_depressants"),
        ("Soma", "other_cns_depressants"),
        ("Xanax XR 1 mg", "benzodiazepines"),
        ("Ativan", "benzodiazepines"),
        ("Percocet", "opioids"),
        ("oxycodone/acetaminophen", "opioids"),
        ("Adderall", "psychostimulants"),
        ("dextroamphetamine-amphetamine", "psychostimulants"),
        ("Ambien CR", "sedative_hypnotics"),
        ("Nardil", "maois"),
    ],
)
def test_interacting_medicines_by_any_name_fire_their_rule(medicine: str, rule_id: str) -> None:
    # was: eligible for linezolid, gabapentin, pregabalin, sodium oxybate, carisoprodol and brands
    result = run(medicines=[medicine])
    assert rule_id in fired(result)
    assert result.status == NEEDS_REVIEW
    assert result.unrecognised == []


@pytest.mark.parametrize("medicine", ["Theo-24", "theophylline ER 300 mg", "aminophylline"])
def test_theophylline_by_any_name_excludes(medicine: str) -> None:
    assert run(medicines=[medicine]).status == INELIGIBLE


@pytest.mark.parametrize("medicine", ["Zzyzxa", "sertralin", "lorazepam prn for flights"])
def test_a_medicine_not_in_the_vocabulary_is_needs_review_and_named(medicine: str) -> None:
    result = run(medicines=[medicine])
    assert result.status == NEEDS_REVIEW
    assert [r.entry for r in result.unrecognised] == [medicine]


def test_a_partly_read_medicine_still_fires_what_it_names() -> None:
    result = run(medicines=["lorazepam prn for flights"])
    assert "benzodiazepines" in fired(result)


def test_a_medicine_without_interactions_is_understood_and_eligible() -> None:
    result = run(medicines=["Lexapro 10 mg", "levothyroxine", "Tylenol"])
    assert (result.status, result.unrecognised) == (ELIGIBLE, [])
    assert [r.meaning.split(" ")[0] for r in result.readings if r.fact == "medicines"] == [
        "escitalopram",
        "levothyroxine",
        "acetaminophen",
    ]


# --- allergies --------------------------------------------------------------------------------


@pytest.mark.parametrize("allergy", ["ketamine", "Ketalar", "Spravato", "esketamine"])
def test_an_allergy_to_ketamine_by_any_name_excludes(allergy: str) -> None:
    result = run(allergies=[allergy])
    assert result.status == INELIGIBLE
    assert "hypersensitivity" in fired(result)


def test_common_allergies_are_understood_and_unknown_ones_named() -> None:
    assert run(allergies=["penicillin", "latex", "sulfa drugs"]).status == ELIGIBLE
    result = run(allergies=["strawberries"])
    assert result.status == NEEDS_REVIEW
    assert [r.entry for r in result.unrecognised] == ["strawberries"]


# --- indication and treatment-resistant depression ---------------------------------------------


@pytest.mark.parametrize("protocol_id", ["iv_induction_6x", "im_titration"])
def test_no_diagnosis_and_no_trials_recorded_is_not_eligible_for_iv_or_im(
    protocol_id: str,
) -> None:
    # was: eligible (the IV and IM protocols did not require TRD or check the indication)
    result = run(protocol_id, diagnoses=None, antidepressant_trials=None)
    assert result.status == NEEDS_REVIEW
    assert {"diagnoses", "antidepressant_trials"} <= set(result.missing_facts)


@pytest.mark.parametrize("protocol_id", ["iv_induction_6x", "im_titration", "esketamine_trd"])
def test_no_diagnosis_and_no_failed_trial_recorded_as_none_is_ineligible(protocol_id: str) -> None:
    result = run(protocol_id, diagnoses=[], antidepressant_trials=[])
    assert result.status == INELIGIBLE
    assert {"indication_not_matched", "trd_not_met"} <= fired(result)


def test_a_diagnosis_that_does_not_match_the_indication_is_needs_review() -> None:
    result = run("esketamine_suicidal", diagnoses=["F41.1"])
    assert "indication_not_matched" in fired(result)
    assert "generalized" in " ".join(r.meaning.lower() for r in result.readings)


def test_the_at_home_protocol_accepts_any_depressive_diagnosis() -> None:
    assert run("sublingual_home", diagnoses=["F34.1"], antidepressant_trials=[]).status == ELIGIBLE


def test_one_failed_trial_is_not_treatment_resistant_depression() -> None:
    trials = [AntidepressantTrial("sertraline", **FAILED)]
    result = run(antidepressant_trials=trials)
    assert (result.status, fired(result)) == (INELIGIBLE, {"trd_not_met"})


def test_brand_and_generic_of_one_antidepressant_count_once() -> None:
    trials = [
        AntidepressantTrial("sertraline", **FAILED),
        AntidepressantTrial("Zoloft", **FAILED),
    ]
    assert "trd_not_met" in fired(run(antidepressant_trials=trials))


def test_a_trial_of_a_medicine_that_is_not_an_antidepressant_does_not_count() -> None:
    trials = [
        AntidepressantTrial("sertraline", **FAILED),
        AntidepressantTrial("quetiapine", **FAILED),
    ]
    assert "trd_not_met" in fired(run(antidepressant_trials=trials))


def test_a_trial_drug_not_in_the_vocabulary_is_named_when_it_could_decide() -> None:
    trials = [
        AntidepressantTrial("sertraline", **FAILED),
        AntidepressantTrial("bupropian", **FAILED),
    ]
    result = run(antidepressant_trials=trials)
    assert result.status == NEEDS_REVIEW
    assert "antidepressant_trials[1].drug" in result.missing_facts


def test_a_trial_whose_episode_nobody_recorded_stays_unknown() -> None:
    # was: the core defaulted current_episode to yes
    assert AntidepressantTrial("sertraline").current_episode is None
    trials = [
        AntidepressantTrial("sertraline", weeks=8, outcome="no_response", adequate_dose=True),
        AntidepressantTrial("bupropion", **FAILED),
    ]
    result = run(antidepressant_trials=trials)
    assert result.status == NEEDS_REVIEW
    assert result.missing_facts == ["antidepressant_trials[0].current_episode"]


def test_a_trial_episode_that_is_not_a_yes_or_no_is_rejected() -> None:
    trials = [AntidepressantTrial("sertraline", current_episode="yes")]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="current_episode"):
        run(antidepressant_trials=trials)


def test_a_route_only_screening_says_the_indication_was_not_checked() -> None:
    result = screen(CLEAN, route="iv")
    assert any("indication was not checked" in note for note in result.notes)


# --- the property: nothing unread ever passes -------------------------------------------------

VOCABULARY = load_vocabulary()
FACTS = ["diagnoses", "psychiatric_history", "medical_history", "medicines", "allergies"]
READERS = {
    "diagnoses": VOCABULARY.read_condition,
    "psychiatric_history": VOCABULARY.read_condition,
    "medical_history": VOCABULARY.read_condition,
    "medicines": VOCABULARY.read_medicine,
    "allergies": VOCABULARY.read_allergy,
}


@settings(max_examples=150, deadline=None)
@given(
    fact=st.sampled_from(FACTS),
    entry=st.text(
        alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "Zs"]),
        min_size=1,
        max_size=30,
    ),
)
def test_an_entry_the_vocabulary_does_not_understand_is_never_eligible(
    fact: str, entry: str
) -> None:
    current = list(getattr(CLEAN, fact))
    result = run("iv_induction_6x", **{fact: [*current, entry]})
    if entry.strip() and not READERS[fact](entry).understood:
        assert result.status != ELIGIBLE
        assert entry in [r.entry for r in result.unrecognised]
