"""Code systems and codes KetaCare's FHIR resources carry, each with its system and source.

LOINC codes for vital signs are those the FHIR R4 vital-signs profile and US Core 6.1 require;
rating-scale codes come from the instrument data (`ketacare.clinical.data.instruments`), which
cites clinical-reference §4. Where the reference marks a code open, the local code system is used.
"""

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
# KetaCare's own code system for concepts without a confirmed standard code (reference §4: MADRS,
# QIDS-SR16, PCL-5, MOAA/S, pain NRS; chart history items; ketamine-specific events).
LOCAL = "urn:ketacare:fhir:CodeSystem:local"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
ADVERSE_EVENT_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"

# Vital signs (FHIR R4 vital-signs profile; US Core 6.1 vital-sign profiles)
BP_PANEL = "85354-9"  # LOINC: blood pressure panel with all children optional
BP_SYSTOLIC = "8480-6"  # LOINC: systolic blood pressure
BP_DIASTOLIC = "8462-4"  # LOINC: diastolic blood pressure
HEART_RATE = "8867-4"  # LOINC: heart rate
RESPIRATORY_RATE = "9279-1"  # LOINC: respiratory rate
SPO2_PULSE_OXIMETRY = "59408-5"  # LOINC: oxygen saturation by pulse oximetry (US Core)
SPO2 = "2708-6"  # LOINC: oxygen saturation in arterial blood (R4 vital-signs profile)
BODY_WEIGHT = "29463-7"  # LOINC: body weight
BODY_HEIGHT = "8302-2"  # LOINC: body height
BODY_TEMPERATURE = "8310-5"  # LOINC: body temperature
VITAL_SIGNS_PANEL = "85353-1"  # LOINC: vital signs panel (not emitted; for reference)

# Consent category: LOINC 59284-0 "Patient Consent" (FHIR R4 consent-category value set).
PATIENT_CONSENT = "59284-0"

# Medicines (reference §4): RxNorm ingredient ketamine 6130 is marked OPEN (believed correct);
# the Ketalar product RxCUIs come from openFDA. Esketamine has no RxNorm code in the reference,
# so it is coded by its NDC product code (reference §1: 50458-028, the 28 mg device) and text.
RXNORM_KETAMINE = "6130"  # RxNorm ingredient ketamine (reference §4: open)
NDC_SPRAVATO_DEVICE = "50458-028"  # NDC product code, SPRAVATO 28 mg device (reference §1)

# Routes of administration: SNOMED CT (FHIR R4 value set route-codes).
ROUTES: dict[str, tuple[str, str]] = {
    "iv": ("47625008", "Intravenous route"),
    "im": ("78421000", "Intramuscular route"),
    "esketamine": ("46713006", "Nasal route"),
    "sublingual": ("37839007", "Sublingual route"),
    "oral": ("26643006", "Oral route"),
}

# SNOMED CT 716186003 "No known allergy" (US Core AllergyIntolerance guidance).
NO_KNOWN_ALLERGY = "716186003"

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def us_core(profile: str) -> str:
    """The canonical URL of a US Core 6.1 profile."""
    return f"{US_CORE}{profile}"


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A FHIR Coding."""
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def system_url(name: str) -> str:
    """The FHIR URL of a code system named in the instrument data ('LOINC', 'ketacare-local')."""
    return {"LOINC": LOINC, "ketacare-local": LOCAL, "SNOMED": SNOMED}.get(name, name)
