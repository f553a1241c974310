"""The chart as eligibility facts: ICD-10 mapping, unknown versus none, and the snapshot form."""

from datetime import date
from decimal import Decimal

import pytest

from ketacare.clinical.eligibility import FACT_NAMES, AntidepressantTrial, screen
from ketacare.clinical.protocols import get_protocol
from ketacare.patients.codes import normalize_icd10
from ketacare.patients.facts import age_on, facts_from_chart, facts_to_json
from ketacare.patients.sections import fact_label, fact_step
from tests.patients.factories import eligible_chart

TODAY = date(2026, 3, 1)


def _facts(sections=None, *, sex="female", born=date(1980, 5, 17), weight=Decimal("70")):
    return facts_from_chart(
        date_of_birth=born,
        sex=sex,
        today=TODAY,
        sections=eligible_chart() if sections is None else sections,
        weight_kg=weight,
    )


@pytest.mark.parametrize("bad", ["", "33.1", "F3", "FF3.1", "F33.12345", "U07.1"])
def test_a_malformed_icd10_code_is_refused(bad):
    with pytest.raises(ValueError, match="ICD-10"):
        normalize_icd10(bad)


def test_age_turns_over_on_the_birthday():
    assert age_on(date(1980, 3, 1), date(2026, 2, 28)) == 45
    assert age_on(date(1980, 3, 1), date(2026, 3, 1)) == 46


def test_an_empty_chart_gives_unknown_facts_so_the_engine_asks_for_them():
    # given a chart with no sections
    facts = _facts({}, weight=None)
    # then every chart fact is None (unknown), and only age comes from the date of birth
    as_json = facts_to_json(facts)
    assert as_json["age_years"] == 45
    assert [name for name in FACT_NAMES if as_json[name] is not None] == ["age_years"]
    # and the engine names them as missing
    result = screen(facts, protocol=get_protocol("iv_induction_6x"))
    assert result.status == "needs review"
    assert {"systolic_mmhg", "medicines", "pregnant"} <= set(result.missing_facts)


def test_a_section_recorded_as_none_known_is_an_empty_list_not_unknown():
    facts = _facts({"medicines": {"none_known": True}, "allergies": {"none_known": True}})
    assert facts.medicines == []
    assert facts.medical_history is None  # allergies alone do not answer the medical history


def test_a_complete_chart_screens_eligible_for_iv_and_esketamine():
    facts = _facts()
    for protocol_id in ("iv_induction_6x", "esketamine_trd"):
        result = screen(facts, protocol=get_protocol(protocol_id))
        assert (result.status, result.fired, result.missing_facts) == ("eligible", [], [])


def test_diagnoses_go_as_icd10_codes_and_medicines_by_generic_and_brand_name():
    sections = eligible_chart()
    sections["diagnoses"]["items"].append({"icd10": "F20.9", "description": "Schizophrenia"})
    sections["medicines"]["items"].append({"generic_name": "Lorazepam", "brand_name": "Ativan"})
    facts = _facts(sections)
    assert facts.diagnoses == ["F20.9", "F33.1"]
    assert facts.medicines == ["Ativan", "lorazepam", "sertraline"]
    fired = {r.rule_id for r in screen(facts, protocol=get_protocol("iv_induction_6x")).fired}
    assert {"psychosis_history", "benzodiazepines"} <= fired


def test_a_brand_name_typed_as_the_medicine_is_read_by_ingredient():
    sections = eligible_chart()
    sections["medicines"]["items"] = [{"generic_name": "Lyrica 75 mg"}]
    result = screen(_facts(sections), protocol=get_protocol("iv_induction_6x"))
    assert "gabapentinoids" in {r.rule_id for r in result.fired}


def test_an_allergy_to_ketamine_is_a_hypersensitivity_the_screening_sees():
    sections = eligible_chart()
    sections["allergies"] = {"items": [{"substance": "Ketalar", "reaction": "rash"}]}
    facts = _facts(sections)
    assert facts.allergies == ["Ketalar"]
    result = screen(facts, protocol=get_protocol("iv_induction_6x"))
    assert result.status == "ineligible"


def test_other_conditions_and_notes_reach_the_screening_line_by_line():
    # was: "other conditions" never reached the screening, which answered eligible
    sections = eligible_chart()
    sections["medical_history"] = {
        "conditions": ["hypertension"],
        "other": ["abdominal aortic aneurysm", "Ehlers-Danlos syndrome"],
        "notes": "Knee surgery 2019",
    }
    facts = _facts(sections)
    assert facts.medical_history == [
        "Ehlers-Danlos syndrome",
        "Knee surgery 2019",
        "abdominal aortic aneurysm",
        "hypertension",
    ]
    result = screen(facts, protocol=get_protocol("iv_induction_6x"))
    assert result.status == "ineligible"
    assert "aneurysmal_vascular_disease" in {r.rule_id for r in result.fired}
    assert {r.entry for r in result.unrecognised} == {"Ehlers-Danlos syndrome", "Knee surgery 2019"}


def test_an_other_substance_goes_with_its_details_and_needs_review():
    sections = eligible_chart()
    sections["substance_use"] = {"items": [{"substance": "other", "details": "kratom daily"}]}
    facts = _facts(sections)
    assert facts.substance_use == ["other: kratom daily"]
    result = screen(facts, protocol=get_protocol("iv_induction_6x"))
    assert result.status == "needs review"
    assert [r.entry for r in result.unrecognised] == ["other: kratom daily"]


def test_pregnancy_is_not_asked_of_a_patient_whose_sex_at_birth_is_male():
    sections = {k: v for k, v in eligible_chart().items() if k != "pregnancy"}
    assert (_facts(sections, sex="male").pregnant, _facts(sections, sex="male").breastfeeding) == (
        False,
        False,
    )
    assert _facts(sections, sex="female").pregnant is None
    assert _facts(sections, sex="unknown").pregnant is None


def test_trials_keep_unknowns_so_the_engine_can_name_them():
    sections = eligible_chart()
    sections["antidepressant_trials"] = {"items": [{"drug": "Sertraline", "weeks": "8"}]}
    facts = _facts(sections)
    # the episode was left unknown: it stays unknown (it used to default to yes)
    assert facts.antidepressant_trials == [
        AntidepressantTrial(drug="sertraline", weeks=Decimal("8"), current_episode=None)
    ]
    result = screen(facts, protocol=get_protocol("esketamine_trd"))
    assert {
        "antidepressant_trials[0].outcome",
        "antidepressant_trials[0].current_episode",
    } <= set(result.missing_facts)


def test_the_snapshot_writes_decimals_the_same_however_they_were_typed():
    sections = eligible_chart()
    sections["antidepressant_trials"]["items"][0]["weeks"] = "8.0"
    one = facts_to_json(_facts(sections, weight=Decimal("70.0")))
    sections["antidepressant_trials"]["items"][0]["weeks"] = "8"
    other = facts_to_json(_facts(sections, weight=Decimal("70")))
    assert one == other
    assert one["weight_kg"] == "70"


def test_missing_trial_facts_read_as_sentences_and_link_to_their_step():
    assert (
        fact_label("antidepressant_trials[1].weeks")
        == "Prior antidepressant trials, trial 2: weeks"
    )
    assert fact_step("antidepressant_trials[1].weeks") == "antidepressant_trials"
    assert fact_label("systolic_mmhg") == "Blood pressure, systolic"
    assert fact_step("pregnant") == "pregnancy"
