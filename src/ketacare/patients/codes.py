"""Chart codes: ICD-10-CM diagnoses mapped onto the eligibility engine's condition codes.

Pure Python (no Django). The chart stores diagnoses as ICD-10-CM codes, which is what clinics
and payers use; the eligibility rules (`ketacare.clinical.eligibility`) look for condition codes
such as `major_depressive_disorder`. This module is the one place that bridges the two. It is
coding, not clinical thresholds, and belongs in the core once the core owns a code map.
"""

from __future__ import annotations

import re

from ketacare.clinical.eligibility import known_codes

# ICD-10-CM (code system 2.16.840.1.113883.6.90): a letter, two characters, then an optional
# dot and up to four more. The letter U is reserved for special purposes and not used here.
ICD10_PATTERN = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")

# (ICD-10-CM prefix, condition codes). A code maps to every entry it falls under: "F20" covers
# F20 and F20.x, "F33.4" covers F33.4 and F33.40-F33.42. Chosen to match only the diagnosis
# each condition names:
#   - major depressive disorder: F32.0-F32.5 and F32.9 (single episode), F33.0-F33.4x and F33.9
#     (recurrent). Not F32.8x (other depressive episodes, e.g. premenstrual dysphoric disorder),
#     F32.A (depression, unspecified) or F33.8 (other recurrent depressive disorders).
#   - psychosis: F22-F29 and mood disorders "with psychotic symptoms" (F30.2, F31.2, F31.5,
#     F32.3, F33.3); schizophrenia: F20.
#   - alcohol use disorder: F10.1x (abuse) and F10.2x (dependence); other substance use
#     disorders: F11-F16, F18, F19 abuse or dependence. Nicotine dependence (F17) is not
#     counted: it does not bear on the misuse risk the rule is about.
ICD10_CONDITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("F32.0", ("major_depressive_disorder",)),
    ("F32.1", ("major_depressive_disorder",)),
    ("F32.2", ("major_depressive_disorder",)),
    ("F32.3", ("major_depressive_disorder", "psychosis")),
    ("F32.4", ("major_depressive_disorder",)),
    ("F32.5", ("major_depressive_disorder",)),
    ("F32.9", ("major_depressive_disorder",)),
    ("F33.0", ("major_depressive_disorder",)),
    ("F33.1", ("major_depressive_disorder",)),
    ("F33.2", ("major_depressive_disorder",)),
    ("F33.3", ("major_depressive_disorder", "psychosis")),
    ("F33.4", ("major_depressive_disorder",)),
    ("F33.9", ("major_depressive_disorder",)),
    ("F20", ("schizophrenia",)),
    ("F22", ("psychosis",)),
    ("F23", ("psychosis",)),
    ("F24", ("psychosis",)),
    ("F25", ("psychosis",)),
    ("F28", ("psychosis",)),
    ("F29", ("psychosis",)),
    ("F30.2", ("psychosis",)),
    ("F31.2", ("psychosis",)),
    ("F31.5", ("psychosis",)),
    ("F10.1", ("alcohol_use_disorder",)),
    ("F10.2", ("alcohol_use_disorder",)),
    *(
        (f"{prefix}.{kind}", ("substance_use_disorder",))
        for prefix in ("F11", "F12", "F13", "F14", "F15", "F16", "F18", "F19")
        for kind in ("1", "2")
    ),
)

# Common ICD-10-CM codes in a ketamine clinic, offered as suggestions in the intake form
# (the official short descriptions, abridged).
COMMON_ICD10: tuple[tuple[str, str], ...] = (
    ("F32.0", "Major depressive disorder, single episode, mild"),
    ("F32.1", "Major depressive disorder, single episode, moderate"),
    ("F32.2", "Major depressive disorder, single episode, severe without psychotic features"),
    ("F32.3", "Major depressive disorder, single episode, severe with psychotic features"),
    ("F32.9", "Major depressive disorder, single episode, unspecified"),
    ("F33.0", "Major depressive disorder, recurrent, mild"),
    ("F33.1", "Major depressive disorder, recurrent, moderate"),
    ("F33.2", "Major depressive disorder, recurrent, severe without psychotic features"),
    ("F33.3", "Major depressive disorder, recurrent, severe with psychotic symptoms"),
    ("F33.9", "Major depressive disorder, recurrent, unspecified"),
    ("F31.81", "Bipolar II disorder"),
    ("F34.1", "Dysthymic disorder"),
    ("F41.1", "Generalized anxiety disorder"),
    ("F43.10", "Post-traumatic stress disorder, unspecified"),
    ("F42.2", "Mixed obsessional thoughts and acts"),
    ("F10.20", "Alcohol dependence, uncomplicated"),
    ("F20.9", "Schizophrenia, unspecified"),
    ("G89.4", "Chronic pain syndrome"),
)

# Antidepressants by generic name, offered as suggestions for the trials section.
COMMON_ANTIDEPRESSANTS: tuple[str, ...] = (
    "agomelatine",
    "amitriptyline",
    "bupropion",
    "citalopram",
    "clomipramine",
    "desvenlafaxine",
    "duloxetine",
    "escitalopram",
    "fluoxetine",
    "fluvoxamine",
    "imipramine",
    "levomilnacipran",
    "mirtazapine",
    "nortriptyline",
    "paroxetine",
    "phenelzine",
    "sertraline",
    "tranylcypromine",
    "trazodone",
    "venlafaxine",
    "vilazodone",
    "vortioxetine",
)

# Labels for the engine's condition codes, for people; unknown codes fall back to the code.
CONDITION_LABELS: dict[str, str] = {
    "major_depressive_disorder": "Major depressive disorder",
    "psychosis": "Psychosis",
    "schizophrenia": "Schizophrenia",
    "substance_use_disorder": "Substance use disorder",
    "alcohol_use_disorder": "Alcohol use disorder",
    "aneurysmal_vascular_disease": "Aneurysmal vascular disease",
    "aortic_aneurysm": "Aortic aneurysm (thoracic or abdominal)",
    "intracranial_aneurysm": "Intracranial aneurysm",
    "peripheral_arterial_aneurysm": "Peripheral arterial aneurysm",
    "arteriovenous_malformation": "Arteriovenous malformation",
    "intracerebral_haemorrhage": "Intracerebral haemorrhage",
    "bp_rise_serious_hazard": "A rise in blood pressure would be a serious hazard",
    "hypersensitivity_ketamine": "Hypersensitivity to ketamine",
    "hypersensitivity_esketamine": "Hypersensitivity to esketamine",
    "hypersensitivity_spravato_excipients": "Hypersensitivity to a SPRAVATO excipient",
    "hepatic_impairment_moderate": "Hepatic impairment, moderate",
    "hepatic_impairment_severe": "Hepatic impairment, severe",
    "cardiovascular_disease": "Cardiovascular disease",
    "cerebrovascular_disease": "Cerebrovascular disease",
    "raised_intracranial_pressure": "Raised intracranial pressure",
    "ulcerative_cystitis": "Ulcerative cystitis",
    "interstitial_cystitis": "Interstitial cystitis",
    "hypertensive_encephalopathy": "Hypertensive encephalopathy",
    "seizure_disorder": "Seizure disorder",
    # History items the chart keeps although no rule uses them (yet).
    "bipolar_disorder": "Bipolar disorder",
    "suicide_attempt": "Previous suicide attempt",
    "self_harm": "Self-harm",
    "psychiatric_admission": "Psychiatric hospital admission",
    "eating_disorder": "Eating disorder",
    "ptsd": "Post-traumatic stress disorder",
    "ect": "Previous ECT",
    "tms": "Previous TMS",
    "hypertension": "Hypertension",
    "sleep_apnoea": "Obstructive sleep apnoea",
    "glaucoma": "Glaucoma",
    "thyroid_disease": "Thyroid disease",
    # Substances (non-prescribed use).
    "alcohol": "Alcohol",
    "ketamine": "Ketamine (not prescribed)",
    "esketamine": "Esketamine (not prescribed)",
    "cannabis": "Cannabis",
    "tobacco": "Tobacco or nicotine",
    "opioids": "Opioids (not prescribed)",
    "stimulants": "Stimulants (not prescribed)",
    "sedatives": "Sedatives (not prescribed)",
    "hallucinogens": "Hallucinogens",
    "other": "Other",
}

# History items kept in the chart beyond the codes the rules know.
EXTRA_PSYCHIATRIC_HISTORY = (
    "bipolar_disorder",
    "suicide_attempt",
    "self_harm",
    "psychiatric_admission",
    "eating_disorder",
    "ptsd",
    "ect",
    "tms",
)
EXTRA_MEDICAL_HISTORY = ("hypertension", "sleep_apnoea", "glaucoma", "thyroid_disease")
EXTRA_SUBSTANCES = (
    "cannabis",
    "tobacco",
    "opioids",
    "stimulants",
    "sedatives",
    "hallucinogens",
    "other",
)


def normalize_icd10(value: str) -> str:
    """An ICD-10-CM code in its canonical form (upper case, dot after three characters)."""
    code = value.strip().upper().replace(" ", "")
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    if not ICD10_PATTERN.match(code):
        raise ValueError(f"{value!r} is not an ICD-10-CM code (e.g. F33.1)")
    return code


def conditions_for_icd10(code: str) -> tuple[str, ...]:
    """The eligibility condition codes an ICD-10-CM diagnosis code stands for (maybe none)."""
    code = normalize_icd10(code)
    found: list[str] = []
    for prefix, conditions in ICD10_CONDITIONS:
        if code == prefix or code.startswith(prefix if "." in prefix else prefix + "."):
            found.extend(conditions)
    return tuple(dict.fromkeys(found))


def condition_label(code: str) -> str:
    """A person-readable label for a condition or substance code."""
    return CONDITION_LABELS.get(code, code.replace("_", " ").capitalize())


def psychiatric_history_codes() -> tuple[str, ...]:
    """The codes the psychiatric history checklist offers: the rules' first, then the rest."""
    return (*known_codes().get("psychiatric_history", ()), *EXTRA_PSYCHIATRIC_HISTORY)


def medical_history_codes() -> tuple[str, ...]:
    """The codes the medical history checklist offers: the rules' first, then the rest."""
    return (*known_codes().get("medical_history", ()), *EXTRA_MEDICAL_HISTORY)


def substance_codes() -> tuple[str, ...]:
    """The substances the substance-use section records."""
    return (*known_codes().get("substance_use", ()), *EXTRA_SUBSTANCES)


def hypersensitivity_codes_for_allergy(substance: str) -> tuple[str, ...]:
    """An allergy to ketamine or esketamine (by name or brand) is a hypersensitivity condition."""
    words = set(re.findall(r"[a-z]+", substance.lower()))
    codes = []
    if words & {"esketamine", "spravato"}:
        codes.append("hypersensitivity_esketamine")
    if words & {"ketamine", "ketalar"}:
        codes.append("hypersensitivity_ketamine")
    return tuple(codes)
