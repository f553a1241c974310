"""The vocabularies: names resolve to ingredients and conditions, codes map, suggestions."""

from __future__ import annotations

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.vocabulary import load_vocabulary, normalize, normalize_icd10

V = load_vocabulary()


def test_the_vocabularies_hold_the_reference_interacting_medicines() -> None:
    # reference §2: theophylline/aminophylline; CNS depressants; stimulants; MAOIs incl. linezolid
    classes = {i.id: set(i.classes) for i in V.ingredients.values()}
    assert {"theophyllines"} <= classes["aminophylline"]
    assert {"maois"} <= classes["linezolid"] & classes["methylene blue"]
    assert {"gabapentinoids"} <= classes["gabapentin"] & classes["pregabalin"]
    assert {"other_cns_depressants"} <= classes["sodium oxybate"] & classes["carisoprodol"]
    for stimulant in ("amphetamine", "methylphenidate", "modafinil", "armodafinil"):
        assert "psychostimulants" in classes[stimulant]
    assert all(any(c in i.classes for i in V.ingredients.values()) for c in V.classes)


@pytest.mark.parametrize(
    ("ingredient", "rxnorm"),
    [("ketamine", "6130"), ("alprazolam", "596"), ("linezolid", "190376"), ("sertraline", "36437")],
)
def test_ingredients_carry_their_rxnorm_code(ingredient: str, rxnorm: str) -> None:
    assert V.ingredients[ingredient].rxnorm == rxnorm
    assert f"RxNorm {rxnorm}" in V.read_medicine(ingredient).meaning


def test_an_ingredient_without_a_confirmed_code_says_so() -> None:
    assert V.ingredients["esketamine"].rxnorm is None
    assert "no RxNorm code held" in V.read_medicine("Spravato").meaning


def test_every_name_reads_back_to_its_own_ingredient() -> None:
    for ingredient in V.ingredients.values():
        for name in (ingredient.id, *ingredient.brands, *ingredient.synonyms):
            reading = V.read_medicine(name)
            assert reading.understood and ingredient.id in reading.concepts, name


def test_every_condition_name_and_code_reads_back_to_its_condition() -> None:
    for condition in V.conditions.values():
        for name in (condition.id, condition.label, *condition.synonyms, *condition.snomed):
            reading = V.read_condition(name)
            assert reading.understood and condition.id in reading.concepts, name


@pytest.mark.parametrize(
    ("code", "conditions"),
    [
        ("F33.1", ("major_depressive_disorder",)),
        ("F32.3", ("major_depressive_disorder", "psychosis")),
        ("F31.2", ("psychosis", "bipolar_disorder")),
        ("F20.9", ("schizophrenia",)),
        ("F10.20", ("alcohol_use_disorder",)),
        ("F11.20", ("substance_use_disorder",)),
        ("F17.210", ("nicotine_dependence",)),
        ("F32.A", ("depression_unspecified",)),
        ("F32.81", ("other_depressive_disorder",)),
        ("I71.0", ("aortic_dissection",)),
        ("I71.4", ("aortic_aneurysm",)),
        ("i714", ("aortic_aneurysm",)),
        ("Z00.00", ()),
    ],
)
def test_icd10_codes_map_to_only_the_conditions_they_name(
    code: str, conditions: tuple[str, ...]
) -> None:
    assert set(V.conditions_for_icd10(code)) == set(conditions)


def test_an_unmapped_icd10_code_says_which_code_and_its_title() -> None:
    assert V.read_condition("Z00.00").meaning == "ICD-10-CM Z00.00 is not mapped"


@pytest.mark.parametrize("value", ["F3", "33.1", "U07.1", "", "F33.12345"])
def test_a_malformed_icd10_code_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidInput) as error:
        normalize_icd10(value)
    assert error.value.field == "icd10"


def test_icd10_codes_are_normalised() -> None:
    assert normalize_icd10(" f331 ") == "F33.1"


def test_names_are_compared_without_case_or_punctuation() -> None:
    assert normalize("Hashimoto's  Thyroiditis") == "hashimoto s thyroiditis"


def test_substances_allergens_and_classes_read() -> None:
    assert V.read_substance("Cocaine").concepts == ("stimulants",)
    assert not V.read_substance("glue").understood
    assert V.read_allergy("Opioids").concepts == ("opioids",)
    assert V.read_allergy("latex").understood
    partial = V.read_allergy("penicillin and strawberries")
    assert (partial.understood, partial.concepts) == (False, ("penicillins",))


def test_labels_name_each_kind_of_concept() -> None:
    assert V.label("aortic_aneurysm") == "Aortic aneurysm (thoracic or abdominal)"
    assert V.label("alcohol") == "Alcohol"
    assert V.label("maois").startswith("Monoamine oxidase inhibitors")
    assert V.label("some_code") == "Some code"
    assert V.label("sertraline") == "sertraline"


def test_the_chart_gets_its_checklists_and_suggestions_from_the_vocabulary() -> None:
    assert "aortic_aneurysm" in V.checklist("medical_history")
    assert "schizophrenia" in V.checklist("psychiatric_history")
    assert {"Xanax", "alprazolam", "Percocet"} <= set(V.medicine_names())
    assert {"Abdominal aortic aneurysm".lower()} <= {n.lower() for n in V.condition_names()}
    assert "sertraline" in V.antidepressants() and "lorazepam" not in V.antidepressants()


def test_the_vocabulary_is_loaded_once() -> None:
    assert load_vocabulary() is V


def test_a_misspelling_gets_suggestions_and_nonsense_gets_none() -> None:
    assert "sertraline" in V.suggest("medicine", "sertralin")
    suggested = V.suggest("condition", "intracerebal haemorrhage")
    assert "intracerebral haemorrhage" in [name.lower() for name in suggested]
    assert suggested == V.suggest("condition", "intracerebal haemorrhage")
    assert V.suggest("condition", "qqqqqqq") == ()


def test_a_known_condition_code_reads_as_its_label() -> None:
    code = V.checklist("medical_history")[0]
    reading = V.read_condition_code(code)
    assert reading.understood
    assert reading.meaning == V.conditions[code].label != code


def test_an_unknown_condition_code_fails_closed_shown_as_recorded() -> None:
    reading = V.read_condition_code("retired_condition_x")
    assert not reading.understood
    assert reading.entry == "retired_condition_x"
    assert reading.concepts == ()
