"""Malformed data files raise a clear DataError naming the file and the key."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from ketacare.clinical import ClinicalError, DataError
from ketacare.clinical._data import load_sources, parse_document, parse_sources
from ketacare.clinical.dose_limits import load_dosing_constants, parse_dosing_constants
from ketacare.clinical.eligibility import load_eligibility_rules, parse_eligibility_rules
from ketacare.clinical.instruments import load_instruments, parse_instrument
from ketacare.clinical.outcomes import load_outcome_rules, parse_outcome_rules
from ketacare.clinical.protocols import (
    load_monitoring_profiles,
    load_protocols,
    parse_monitoring_profiles,
    parse_protocol,
)
from ketacare.clinical.vocabulary import build_vocabulary


def packaged(name: str) -> str:
    return (
        resources.files("ketacare.clinical")
        .joinpath("data", *name.split("/"))
        .read_text(encoding="utf-8")
    )


def edited(name: str, old: str, new: str) -> str:
    text = packaged(name)
    assert old in text, f"{old!r} not in {name}"
    return text.replace(old, new, 1)


def test_all_packaged_data_loads_once_and_is_cached() -> None:
    assert load_instruments() is load_instruments()
    assert load_protocols() is load_protocols()
    for loader in (load_sources, load_dosing_constants, load_eligibility_rules, load_outcome_rules):
        assert loader() is loader()


def test_a_data_error_is_a_clinical_error_naming_file_and_key() -> None:
    error = DataError("protocols/x.toml", "dose.mg_per_kg", "missing required key")
    assert isinstance(error, ClinicalError)
    assert str(error) == "protocols/x.toml: dose.mg_per_kg: missing required key"


def test_a_toml_syntax_error_names_the_file() -> None:
    with pytest.raises(DataError, match=r"bad\.toml: \(syntax\)"):
        parse_document("id = ", "bad.toml")


PHQ9 = "instruments/phq9.toml"
INSTRUMENT_ERRORS = [
    (
        PHQ9,
        'label = "Sleep"',
        'label = "Sleep"\nlable = "Slep"',
        "items[2].lable: unknown key (misspelt?)",
    ),
    (PHQ9, 'label = "Sleep"\n', "", "items[2].label: missing required key"),
    (
        PHQ9,
        'source = ["kroenke_2001"]',
        'source = ["kroenke_2002"]',
        "source[0]: unknown source id",
    ),
    (PHQ9, "min = 5\nmax = 9", "min = 6\nmax = 9", "bands[1]: bands must cover 0-27"),
    (PHQ9, "min = 20\nmax = 27", "min = 20\nmax = 26", "bands: bands end at 26"),
    (PHQ9, "min = 20\nmax = 27", 'min = 20\nmax = "27"', "bands[4].max: expected an integer"),
    (PHQ9, 'scoring = "sum"', 'scoring = "average"', "scoring: expected one of"),
    (
        PHQ9,
        "item = 9\nat_least = 1",
        "item = 10\nat_least = 1",
        "alerts[0].item: 10 is above the maximum 9",
    ),
    (PHQ9, "item = 9\nat_least = 1", "item = 9\nat_least = 4", "at_least: 4 cannot be reached"),
    (PHQ9, "item = 9\nat_least = 1", 'item = 9\nat_least = 1\nband = "severe"', "exactly one of"),
    (PHQ9, "value = 2\nlabel", "value = 5\nlabel", "option values must be unique and ascending"),
    (PHQ9, "wording_reproduced = true", "wording_reproduced = false", "item wording present"),
    (PHQ9, "[[alerts]]\ncode", '[[alerts]]\nband = "extreme"\ncode', "exactly one of"),
    (
        "instruments/madrs.toml",
        'scoring = "sum"',
        'scoring = "sum"\nscorng = "sum"',
        "madrs.toml: scorng: unknown key",
    ),
    (
        "instruments/qids_sr16.toml",
        "items = [15, 16]",
        "items = [15, 17]",
        "item 17 does not exist",
    ),
    (
        "instruments/cssrs_screen.toml",
        'required_if = "cssrs_q6"',
        'required_if = "cssrs_q9"',
        "unknown item",
    ),
    (
        "instruments/cssrs_screen.toml",
        'any_yes = ["cssrs_q3", "cssrs_q6"]',
        'any_yes = ["cssrs_q33"]',
        "unknown item",
    ),
    (
        "instruments/cssrs_screen.toml",
        'band = "low"\nany_yes',
        'band = "tiny"\nany_yes',
        "expected one of",
    ),
    (
        "instruments/cssrs_screen.toml",
        'band = "moderate"\nany_yes = ["cssrs_q3", "cssrs_q6"]',
        'band = "moderate"',
        "needs any_yes",
    ),
    (
        "instruments/cssrs_screen.toml",
        'code = "cssrs_high"\nband = "high"',
        'code = "cssrs_high"\nband = "higher"',
        "unknown band",
    ),
    (
        "instruments/pcl5.toml",
        '[codes.total]\nsystem = "ketacare-local"',
        '[codes.total]\nsystem = "SNOMED"',
        "expected one of",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), INSTRUMENT_ERRORS)
def test_a_malformed_instrument_file_names_file_and_key(
    name: str, old: str, new: str, message: str
) -> None:
    with pytest.raises(DataError, match=re.escape(message)) as error:
        parse_instrument(parse_document(edited(name, old, new), name))
    assert error.value.file == name


def test_conditional_items_must_come_last() -> None:
    name = "instruments/cssrs_screen.toml"
    text = edited(
        name,
        '[[items]]\nid = "cssrs_q6_recent"',
        '[[items]]\nid = "cssrs_q6_recent_x"\nlabel = "x"\nrequired_if = "cssrs_q6"\n'
        '[[items]]\nid = "cssrs_q6_recent"',
    )
    text = text.replace('code = "93269-9"\nrequired_if = "cssrs_q6"', 'code = "93269-9"', 1)
    with pytest.raises(DataError, match="must come last"):
        parse_instrument(parse_document(text, name))


def test_duplicate_item_ids_are_rejected() -> None:
    with pytest.raises(DataError, match="unique"):
        parse_instrument(parse_document(edited(PHQ9, 'id = "phq9_q2"', 'id = "phq9_q1"'), PHQ9))


def test_a_triage_instrument_needs_risk_rules() -> None:
    name = "instruments/cssrs_screen.toml"
    text = packaged(name).replace("[[risk_rules]]", "[[unused]]")
    with pytest.raises(DataError, match="triage scoring needs risk rules"):
        parse_instrument(parse_document(text, name))


OUTCOMES = "outcomes.toml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("min_fall = 0.25", "min_fall = 0.5", "partial response must need a smaller fall"),
        ("[remission.gad7]", "[remission.hamd]", "unknown instrument"),
        (
            'instruments = ["phq9", "gad7", "madrs", "qids_sr16", "pcl5"]',
            'instruments = ["phq9", "madrs", "qids_sr16", "pcl5"]',
            "gad7 has a remission rule",
        ),
        ("min_fall = 0.50", "min_fall = 1.5", "above the maximum"),
        ("min_rise = 5", "min_rise = 0", "below the minimum"),
    ],
)
def test_a_malformed_outcomes_file_names_the_key(old: str, new: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_outcome_rules(parse_document(edited(OUTCOMES, old, new), OUTCOMES))


IV = "protocols/iv_induction_6x.toml"
PROTOCOL_ERRORS = [
    (
        IV,
        'kind = "weight_based"',
        'kind = "weight_based"\nhard_stop_above_mg_per_kg = 1.2',
        "may lower the route's hard stop",
    ),
    (
        IV,
        "range_mg_per_kg = [0.1, 0.75]",
        "range_mg_per_kg = [0.1, 1.5]",
        "must end at or below the hard stop",
    ),
    (
        IV,
        "range_mg_per_kg = [0.1, 0.75]",
        "range_mg_per_kg = [0.75, 0.1]",
        r"range_mg_per_kg\[1\]: 0.1 is below",
    ),
    (IV, "range_mg_per_kg = [0.1, 0.75]", "range_mg_per_kg = 0.5", r"expected \[low, high\]"),
    (IV, "mg_per_kg = 0.5", "mg_per_kg = 0.9", "above the maximum 0.75"),
    (IV, 'route = "iv"', 'route = "rectal"', "route: expected one of"),
    (IV, 'monitoring = "ketamine_in_clinic"', 'monitoring = "none"', "monitoring: expected one of"),
    (IV, 'weight_basis = "actual_or_ideal_if_obese"', 'weight_basis = "lean"', "weight_basis"),
    (IV, "duration_min = 40\n", "", "needs an infusion duration"),
    (IV, "duration_min = 40\n", "duration_min = 20\n", "below the minimum 40"),
    (IV, 'kind = "weight_based"', 'kind = "device"', "kind: expected one of weight_based"),
    (
        IV,
        "first_week = 1\nmax_per_week = 3",
        "first_week = 2\nmax_per_week = 3",
        "first_week: 2 is above",
    ),
    (IV, "requires_trd = true", 'requires_trd = "no"', "expected true or false"),
    (
        "protocols/esketamine_trd.toml",
        "allowed_mg = [56, 84]",
        "allowed_mg = [56, 70]",
        "70 mg is not whole",
    ),
    (
        "protocols/esketamine_trd.toml",
        "allowed_mg = [56, 84]",
        "allowed_mg = [56, 112]",
        "112 mg is not whole",
    ),
    (
        "protocols/esketamine_trd.toml",
        "first_dose_mg = 56",
        "first_dose_mg = 28",
        "below the minimum 56",
    ),
    (
        "protocols/esketamine_trd.toml",
        "first_week = 5\nlast_week = 8",
        "first_week = 5",
        "must be the last phase",
    ),
    ("protocols/sublingual_home.toml", "start_mg = 50", "start_mg = 60", "whole steps of 25"),
    (
        "protocols/sublingual_home.toml",
        "range_mg = [25, 300]",
        "range_mg = [25, 400]",
        "hard stop 300 mg",
    ),
    (
        "protocols/iv_booster.toml",
        'trigger = "relapse_signal"',
        'trigger = "calendar"',
        "trigger: expected one of",
    ),
    (
        "protocols/esketamine_trd.toml",
        'weeks = "course"',
        'weeks = "lunar"',
        r"schedule\.weeks: expected one of course, rolling",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), PROTOCOL_ERRORS)
def test_a_malformed_protocol_file_names_file_and_key(
    name: str, old: str, new: str, message: str
) -> None:
    with pytest.raises(DataError, match=message) as error:
        parse_protocol(
            parse_document(edited(name, old, new), name),
            load_dosing_constants(),
            load_monitoring_profiles(),
        )
    assert error.value.file == name


DOSING = "dosing.toml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "anesthetic_induction_min_mg_per_kg = 1.0",
            "anesthetic_induction_min_mg_per_kg = 0.9",
            "must not reach into anesthetic",
        ),
        ("max_mg = 84", "max_mg = 90", "whole number of 28 mg devices"),
        ("pump_rate_ml_per_h = 0.1", "pump_rate_ml_per_h = 0", "below the minimum"),
        ("weight_kg = [25, 350]", "weight_kg = [350, 25]", r"weight_kg\[1\]"),
        (
            "hard_stop_below_duration_min = 20",
            "hard_stop_below_duration_min = 45",
            "must not be above min_duration_min",
        ),
    ],
)
def test_a_malformed_dosing_file_names_the_key(old: str, new: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_dosing_constants(parse_document(edited(DOSING, old, new), DOSING))


ELIGIBILITY = "eligibility.toml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('facts = ["age_years"]\nvalue = 18', 'facts = ["age"]\nvalue = 18', "unknown fact 'age'"),
        (
            'severity = "exclude"\nkind = "below"',
            'severity = "fatal"\nkind = "below"',
            "severity: expected one of",
        ),
        ('id = "age_65_or_over"', 'id = "age_under_18"', "duplicate rule id 'age_under_18'"),
        ('classes = ["opioids"]', 'classes = ["narcotics"]', "unknown medicine class"),
        ('"interstitial_cystitis"]', '"interstial_cystitis"]', "in no vocabulary"),
        ('codes = ["alcohol"]', 'codes = ["alcohol_use_disorder"]', "in no vocabulary"),
        ('trial_class = "antidepressants"', 'trial_class = "ssris"', "unknown medicine class"),
        (
            'kind = "indication"\nfacts = ["diagnoses"]',
            'kind = "indication"\nfacts = ["medical_history"]',
            "an indication rule reads diagnoses",
        ),
        (
            'kind = "medicine_class"\nfacts = ["medicines"]\nclasses = ["opioids"]',
            'kind = "medicine_class"\nfacts = ["age_years"]\nclasses = ["opioids"]',
            "reads list facts",
        ),
        (
            'routes = ["esketamine"]\nreason = "Esketamine',
            'routes = ["nasal"]\nreason = "Esketamine',
            "unknown route",
        ),
        (
            'facts = ["age_years"]\nvalue = 18',
            'facts = ["age_years", "weight_kg"]\nvalue = 18',
            "uses 1 fact",
        ),
        (
            'facts = ["systolic_mmhg", "diastolic_mmhg"]\nsystolic = 180',
            'facts = ["systolic_mmhg", "age_years"]\nsystolic = 180',
            "blood-pressure rules use",
        ),
        (
            'failed_outcomes = ["no_response", "partial_response"]',
            'failed_outcomes = ["relapse"]',
            "must be among outcomes",
        ),
        ('reason = "Pregnancy: embryo-fetal toxicity."\n', "", "reason: missing required key"),
    ],
)
def test_a_malformed_eligibility_file_names_the_key(old: str, new: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_eligibility_rules(parse_document(edited(ELIGIBILITY, old, new), ELIGIBILITY))


MEDICINES = "vocabulary/medicines.toml"
CONDITIONS = "vocabulary/conditions.toml"


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (MEDICINES, 'id = "lorazepam"', 'id = "Lorazepam"', "lowercase generic name"),
        (MEDICINES, 'id = "lorazepam"', 'id = "alprazolam"', "duplicate ingredient"),
        (MEDICINES, 'rxnorm = "596"', 'rxnorm = "RX596"', "not an RxNorm concept id"),
        (MEDICINES, 'classes = ["gabapentinoids"]', 'classes = ["gabapentins"]', "unknown class"),
        (MEDICINES, 'brands = ["Ativan", "Loreev"]', 'brands = ["Ativan", "Xanax"]', "means both"),
        (
            MEDICINES,
            'ingredients = ["oxycodone", "acetaminophen"]',
            'ingredients = ["oxy"]',
            "unknown ingredient",
        ),
        (MEDICINES, "[classes.lamotrigine]", "[classes.Lamotrigine]", "snake_case"),
        (MEDICINES, 'id = "penicillins"', 'id = "Penicillins"', "snake_case"),
        (MEDICINES, 'brands = ["Ativan", "Loreev"]', 'brands = ["Ativan", "!!"]', "no letters"),
        (MEDICINES, 'id = "lorazepam"\nrxnorm', 'id = "lorazepam"\nrxcui', "unknown key"),
        (CONDITIONS, 'id = "schizophrenia"', 'id = "Schizophrenia"', "snake_case"),
        (CONDITIONS, 'id = "schizophrenia"', 'id = "psychosis"', "duplicate condition"),
        (CONDITIONS, 'icd10 = ["F20"]', 'icd10 = ["F2O"]', "not an ICD-10-CM code or prefix"),
        (CONDITIONS, 'snomed = ["58214004"]', 'snomed = ["5821"]', "not a SNOMED CT concept id"),
        (CONDITIONS, 'checklist = "medical_history"', 'checklist = "history"', "expected one of"),
        (CONDITIONS, 'synonyms = ["glaucoma"]', 'synonyms = ["glaucoma", "asthma"]', "means both"),
        (CONDITIONS, 'id = "alcohol"\n', 'id = "Alcohol"\n', "snake_case"),
        (CONDITIONS, '"I10" = "Essential', '"I1O" = "Essential', "not an ICD-10-CM code"),
        (CONDITIONS, '"I10" = "Essential', '"Z00.0" = "Essential', "maps to no condition"),
    ],
)
def test_a_malformed_vocabulary_names_file_and_key(
    name: str, old: str, new: str, message: str
) -> None:
    medicines = edited(MEDICINES, old, new) if name == MEDICINES else packaged(MEDICINES)
    conditions = edited(CONDITIONS, old, new) if name == CONDITIONS else packaged(CONDITIONS)
    with pytest.raises(DataError, match=message) as error:
        build_vocabulary(
            parse_document(medicines, MEDICINES), parse_document(conditions, CONDITIONS)
        )
    assert error.value.file == name


def test_a_protocol_naming_an_unknown_indication_condition_is_refused() -> None:
    text = edited(
        IV,
        'indication_conditions = ["major_depressive_disorder"]',
        'indication_conditions = ["mdd"]',
    )
    with pytest.raises(DataError, match="indication_conditions"):
        parse_protocol(
            parse_document(text, IV), load_dosing_constants(), load_monitoring_profiles()
        )


MONITORING = "monitoring.toml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "block_systolic_at_or_above = 180",
            "block_systolic_at_or_above = 140",
            "block limits must be above",
        ),
        ("spo2_below = 92", "spo2_below = 192", "above the maximum 100"),
        ('setting = "home"', 'setting = "car"', "setting: expected one of"),
        ("heart_rate_below = 50", "heart_rate_below = 130", "must be below heart_rate_above"),
        ('"respiratory_rate", "spo2"]', '"respiratory_rate", "pulse"]', r"required\[4\]"),
        ("early_discharge_override = false", "early_discharge_override = 0", "true or false"),
    ],
)
def test_a_malformed_monitoring_file_names_the_key(old: str, new: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_monitoring_profiles(parse_document(edited(MONITORING, old, new), MONITORING))


def test_a_source_without_a_citation_is_rejected() -> None:
    text = edited(
        "sources.toml", 'short = "Kroenke 2001"\n', 'short = "Kroenke 2001"\nyear = 2001\n'
    )
    with pytest.raises(DataError, match=r"sources\.kroenke_2001\.year: unknown key"):
        parse_sources(parse_document(text, "sources.toml"))
    with pytest.raises(DataError, match="expected a table"):
        parse_sources(parse_document('[sources]\nkroenke = "x"\n', "sources.toml"))


def test_a_list_where_a_table_is_expected_is_rejected() -> None:
    with pytest.raises(DataError, match="licence: expected a table"):
        parse_instrument(
            parse_document(edited(PHQ9, "[licence]\n", "licence = 1\n[licence_x]\n"), PHQ9)
        )
    with pytest.raises(DataError, match=r"items\[0\]: expected a table"):
        parse_instrument(
            parse_document('items = [1]\nsource = ["kroenke_2001"]\nscoring = "sum"', PHQ9)
        )
    with pytest.raises(DataError, match="expected a non-empty array of tables"):
        parse_instrument(
            parse_document('items = []\nsource = ["kroenke_2001"]\nscoring = "sum"', PHQ9)
        )


def test_lists_of_the_wrong_type_are_rejected() -> None:
    with pytest.raises(DataError, match=r"source\[0\]: expected a non-empty string"):
        parse_instrument(
            parse_document(edited(PHQ9, 'source = ["kroenke_2001"]', "source = [1]"), PHQ9)
        )
    with pytest.raises(DataError, match="expected a non-empty list of integers"):
        parse_instrument(
            parse_document(
                edited("instruments/qids_sr16.toml", "items = [15, 16]", "items = []"), "q"
            )
        )
    with pytest.raises(DataError, match=r"items\[1\]: expected an integer"):
        parse_instrument(
            parse_document(
                edited("instruments/qids_sr16.toml", "items = [15, 16]", 'items = [15, "16"]'), "q"
            )
        )
    with pytest.raises(DataError, match="expected a number"):
        parse_outcome_rules(
            parse_document(edited(OUTCOMES, "min_fall = 0.50", 'min_fall = "half"'), OUTCOMES)
        )


def test_domain_scoring_without_domains_is_rejected() -> None:
    name = "instruments/qids_sr16.toml"
    text = packaged(name).replace("[[domains]]", "[[unused]]")
    with pytest.raises(DataError, match="domain scoring needs domains"):
        parse_instrument(parse_document(text, name))


def test_an_item_without_any_answer_options_is_rejected() -> None:
    name = "instruments/pain_nrs.toml"
    text = packaged(name).replace("[[items.options]]", "[[items.unused]]")
    with pytest.raises(DataError, match=r"items\[0\]\.options: no answer options"):
        parse_instrument(parse_document(text, name))


def test_an_instrument_without_codes_is_valid() -> None:
    name = "instruments/madrs.toml"
    text = edited(name, '[codes.total]\nsystem = "ketacare-local"\ncode = "madrs-total"\n', "")
    instrument = parse_instrument(parse_document(text, name))
    assert (instrument.panel_code, instrument.total_code) == (None, None)


def test_a_string_where_a_list_or_text_is_expected_is_rejected() -> None:
    with pytest.raises(DataError, match="name: expected a non-empty string"):
        parse_instrument(
            parse_document(
                edited(PHQ9, 'name = "Patient Health Questionnaire-9"', "name = 9"), PHQ9
            )
        )
    with pytest.raises(DataError, match="source: expected a non-empty list of strings"):
        parse_instrument(
            parse_document(
                edited(PHQ9, 'source = ["kroenke_2001"]', 'source = "kroenke_2001"'), PHQ9
            )
        )


def test_a_protocol_id_must_match_its_file_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from ketacare.clinical import protocols

    # given a file named for one protocol holding another
    monkeypatch.setattr(protocols, "list_documents", lambda folder: ["protocols/iv_booster.toml"])
    monkeypatch.setattr(protocols, "read_document", lambda name: parse_document(packaged(IV), name))
    protocols.load_protocols.cache_clear()
    try:
        with pytest.raises(DataError, match="must match the file name") as error:
            protocols.load_protocols()
        assert error.value.file == "protocols/iv_booster.toml"
    finally:
        protocols.load_protocols.cache_clear()
