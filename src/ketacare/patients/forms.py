"""Web forms for patient demographics; they validate, the services write."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.urls import reverse_lazy
from django.utils import timezone

from ketacare.kernel import clock
from ketacare.kernel.bounds import BoundedForm, BoundedModelForm
from ketacare.patients.codes import (
    condition_label,
    medical_history_codes,
    normalize_icd10,
    psychiatric_history_codes,
    substance_codes,
)
from ketacare.patients.models import HEIGHT_CM_RANGE, WEIGHT_KG_RANGE, Patient
from ketacare.patients.sections import trial_outcomes


class PatientForm(BoundedModelForm):
    """Demographics as staff enter them."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = [
            "given_name",
            "family_name",
            "preferred_name",
            "date_of_birth",
            "sex",
            "email",
            "phone",
        ]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}

    def clean_date_of_birth(self) -> date:
        value: date = self.cleaned_data["date_of_birth"]
        if value > clock.today():
            raise forms.ValidationError("Date of birth cannot be in the future.")
        return value


class PatientRegisterForm(PatientForm):
    """Registration: a key so Back-then-Save registers once, and a duplicate confirmation."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    confirm_not_duplicate = forms.BooleanField(
        required=False, label="This is a different person: register a new chart"
    )


class PatientMergeForm(forms.Form):
    """Which duplicate chart (by MRN) to merge into this one, and why."""

    merge_mrn = forms.CharField(label="MRN of the duplicate chart", max_length=32)
    reason = forms.CharField(
        label="Why these charts are the same patient", widget=forms.Textarea(attrs={"rows": 2})
    )


# --- chart sections -----------------------------------------------------------------------------
# The forms parse and present; the section schemas (ketacare.patients.sections) are the contract
# and validate again in the service, so the API and the pages enforce the same rules.

YES_NO_UNKNOWN = [("", "Not known yet"), ("yes", "Yes"), ("no", "No")]


def _as_you_type(kind: str, **attrs: str) -> dict[str, Any]:
    """htmx attributes that show, as the user types, how the screening will read the entry."""
    return {
        "hx-get": reverse_lazy("patient_vocabulary_check"),
        "hx-vals": f'{{"kind": "{kind}"}}',
        "hx-trigger": "keyup changed delay:400ms, change",
        "hx-target": "#vocabulary-check",
        "hx-swap": "innerHTML",
        "autocomplete": "off",
        **attrs,
    }


def _tri_state(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _tri_state_initial(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "") if value is not None else ""


class ContactForm(BoundedForm):
    """Address, emergency contact and escort."""

    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    preferred_contact = forms.ChoiceField(
        choices=[
            ("", "—"),
            ("phone", "Phone"),
            ("text", "Text"),
            ("email", "Email"),
            ("post", "Post"),
        ],
        required=False,
    )
    emergency_contact_name = forms.CharField(max_length=200)
    emergency_contact_relationship = forms.CharField(max_length=200, required=False)
    emergency_contact_phone = forms.CharField(max_length=32)
    escort_name = forms.CharField(
        max_length=200, required=False, help_text="Who takes the patient home after treatment."
    )
    escort_relationship = forms.CharField(max_length=200, required=False)
    escort_phone = forms.CharField(max_length=32, required=False)
    escort_notes = forms.CharField(max_length=200, required=False)


class NoneKnownForm(BoundedForm):
    """The 'none' box of a list section."""

    none_known = forms.BooleanField(required=False)


class DiagnosisRow(BoundedForm):
    """One diagnosis."""

    icd10 = forms.CharField(
        label="ICD-10 code", max_length=8, widget=forms.TextInput(attrs={"list": "icd10-codes"})
    )
    description = forms.CharField(max_length=200)
    # Selects carry an initial value so a blank row counts as unchanged (and is ignored).
    status = forms.ChoiceField(
        choices=[("active", "Active"), ("in_remission", "In remission"), ("resolved", "Resolved")],
        initial="active",
    )
    onset_year = forms.IntegerField(min_value=1900, max_value=2100, required=False)
    primary = forms.BooleanField(required=False)

    def clean_icd10(self) -> str:
        try:
            return normalize_icd10(self.cleaned_data["icd10"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class AllergyRow(BoundedForm):
    """One allergy."""

    substance = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs=_as_you_type("allergy", list="medicine-names")),
    )
    reaction = forms.CharField(max_length=200, required=False)
    severity = forms.ChoiceField(
        choices=[
            ("unknown", "Unknown"),
            ("mild", "Mild"),
            ("moderate", "Moderate"),
            ("severe", "Severe"),
        ],
        initial="unknown",
    )


class MedicineRow(BoundedForm):
    """One current medicine."""

    generic_name = forms.CharField(
        label="Medicine (generic or brand)",
        max_length=100,
        widget=forms.TextInput(attrs=_as_you_type("medicine", list="medicine-names")),
        help_text="Pick from the list as you type; a name not on it means 'needs review'.",
    )
    brand_name = forms.CharField(max_length=200, required=False)
    dose = forms.CharField(max_length=200, required=False)
    frequency = forms.CharField(max_length=200, required=False)
    indication = forms.CharField(max_length=200, required=False)


class SubstanceRow(BoundedForm):
    """One substance used."""

    substance = forms.ChoiceField(choices=[])
    details = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["substance"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (c, condition_label(c)) for c in substance_codes()
        ]


class TrialRow(BoundedForm):
    """One antidepressant trial."""

    drug = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"list": "antidepressants"})
    )
    dose_mg = forms.DecimalField(
        label="Dose (mg/day)", min_value=0, max_value=10000, decimal_places=2, required=False
    )
    min_therapeutic_dose_mg = forms.DecimalField(
        label="Minimum therapeutic dose (mg/day)",
        min_value=0,
        max_value=10000,
        decimal_places=2,
        required=False,
    )
    adequate_dose = forms.ChoiceField(
        label="Adequate dose?", choices=YES_NO_UNKNOWN, required=False
    )
    weeks = forms.DecimalField(min_value=0, max_value=520, decimal_places=1, required=False)
    outcome = forms.ChoiceField(choices=[], required=False)
    current_episode = forms.ChoiceField(
        label="This episode?", choices=YES_NO_UNKNOWN, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [("", "Not known yet")] + [  # type: ignore[attr-defined]
            (o, o.replace("_", " ").capitalize()) for o in trial_outcomes()
        ]


class ChecklistForm(BoundedForm):
    """Tick the conditions that apply (or none), with others as text."""

    none_known = forms.BooleanField(required=False, label="None of these, and no other history")
    conditions = forms.MultipleChoiceField(
        choices=[], required=False, widget=forms.CheckboxSelectMultiple
    )
    other = forms.CharField(
        widget=forms.Textarea(attrs=_as_you_type("condition", rows="2")),
        required=False,
        label="Other conditions (one per line)",
        help_text="Anything the list does not name, one per line. The screening reads each line "
        "through its vocabulary; a line it does not understand means 'needs review'.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, codes: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["conditions"].choices = [(c, condition_label(c)) for c in codes]  # type: ignore[attr-defined]


class PregnancyForm(BoundedForm):
    """Pregnancy and breastfeeding."""

    not_applicable = forms.BooleanField(
        required=False, label="Not applicable (pregnancy not possible)"
    )
    pregnant = forms.ChoiceField(label="Pregnant?", choices=YES_NO_UNKNOWN, required=False)
    breastfeeding = forms.ChoiceField(
        label="Breastfeeding?", choices=YES_NO_UNKNOWN, required=False
    )
    notes = forms.CharField(max_length=200, required=False)


class VitalsForm(BoundedForm):
    """Baseline vitals at rest."""

    measured_at = forms.DateTimeField(
        label="Measured at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    systolic_mmhg = forms.IntegerField(label="Systolic (mmHg)", min_value=50, max_value=300)
    diastolic_mmhg = forms.IntegerField(label="Diastolic (mmHg)", min_value=20, max_value=200)
    heart_rate_bpm = forms.IntegerField(
        label="Heart rate (/min)", min_value=20, max_value=250, required=False
    )
    spo2_percent = forms.IntegerField(label="SpO₂ (%)", min_value=50, max_value=100, required=False)
    respiratory_rate = forms.IntegerField(
        label="Respiratory rate (/min)", min_value=4, max_value=60, required=False
    )
    temperature_c = forms.DecimalField(
        label="Temperature (°C)", min_value=30, max_value=45, decimal_places=1, required=False
    )
    notes = forms.CharField(max_length=200, required=False)
    confirmed_implausible = forms.BooleanField(
        label="Re-measured: these values are right",
        required=False,
        help_text="Only when an unlikely value (a BP of 300/200?) was challenged.",
    )


class MeasurementForm(BoundedForm):
    """A dated height and/or weight."""

    measured_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    height_cm = forms.DecimalField(
        label="Height (cm)",
        min_value=HEIGHT_CM_RANGE[0],
        max_value=HEIGHT_CM_RANGE[1],
        decimal_places=1,
        required=False,
    )
    weight_kg = forms.DecimalField(
        label="Weight (kg)",
        min_value=WEIGHT_KG_RANGE[0],
        max_value=WEIGHT_KG_RANGE[1],
        decimal_places=1,
        required=False,
    )
    confirm_implausible = forms.BooleanField(
        label="Re-measured: these values are right",
        required=False,
        help_text="Only when a weight far from the last one, or an unlikely BMI, was challenged.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("height_cm") is None and cleaned.get("weight_kg") is None:
            raise forms.ValidationError("Give a height, a weight, or both.")
        return cleaned


class VoidForm(BoundedForm):
    """Why a measurement is void."""

    reason = forms.CharField(max_length=500)


ROW_FORMS: dict[str, type[forms.Form]] = {
    "diagnoses": DiagnosisRow,
    "allergies": AllergyRow,
    "medicines": MedicineRow,
    "substance_use": SubstanceRow,
    "antidepressant_trials": TrialRow,
}
NONE_LABELS = {
    "diagnoses": "No diagnoses",
    "allergies": "No known allergies",
    "medicines": "Takes no medicines",
    "substance_use": "No substance use",
    "antidepressant_trials": "No antidepressant trials",
}
BLANK_ROWS = 3


@dataclass
class SectionForm:
    """A chart section as a web form: a main form and, for list sections, a formset of rows."""

    section: str
    main: forms.Form
    rows: BaseFormSet | None = None  # type: ignore[type-arg]

    def is_valid(self) -> bool:
        main_ok = self.main.is_valid()
        rows_ok = self.rows is None or self.rows.is_valid()
        return main_ok and rows_ok

    def to_data(self) -> dict[str, Any]:
        """The cleaned form as the section's data (the schema validates it again)."""
        cleaned = dict(self.main.cleaned_data)
        if self.section in ROW_FORMS:
            assert self.rows is not None  # noqa: S101 - list sections always have rows
            items = [
                {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
                for form in self.rows.forms
                if form.has_changed() and not form.cleaned_data.get("DELETE")
            ]
            if self.section == "antidepressant_trials":
                for item in items:
                    item["adequate_dose"] = _tri_state(item["adequate_dose"])
                    item["current_episode"] = _tri_state(item["current_episode"])
                    item["outcome"] = item["outcome"] or None
            return {"none_known": cleaned["none_known"], "items": items}
        if self.section in ("psychiatric_history", "medical_history"):
            cleaned["other"] = [
                line.strip() for line in cleaned["other"].splitlines() if line.strip()
            ]
        if self.section == "contact":
            cleaned["preferred_contact"] = cleaned["preferred_contact"] or None
        if self.section == "pregnancy":
            cleaned["pregnant"] = _tri_state(cleaned["pregnant"])
            cleaned["breastfeeding"] = _tri_state(cleaned["breastfeeding"])
        return cleaned


def section_form(
    section: str, *, data: Any = None, stored: dict[str, Any] | None = None
) -> SectionForm:
    """The web form for a chart section, bound to a POST or filled from the stored data."""
    stored = stored or {}
    if section in ROW_FORMS:
        main = NoneKnownForm(data, initial={"none_known": stored.get("none_known", False)})
        main.fields["none_known"].label = NONE_LABELS[section]
        rows_initial = [dict(item) for item in stored.get("items", [])]
        if section == "antidepressant_trials":
            for row in rows_initial:
                row["adequate_dose"] = _tri_state_initial(row.get("adequate_dose"))
                row["current_episode"] = _tri_state_initial(row.get("current_episode"))
        formset_class = formset_factory(ROW_FORMS[section], extra=BLANK_ROWS, can_delete=True)
        rows = formset_class(data, initial=rows_initial, prefix="items")
        return SectionForm(section, main, rows)
    if section in ("psychiatric_history", "medical_history"):
        codes = (
            psychiatric_history_codes()
            if section == "psychiatric_history"
            else medical_history_codes()
        )
        initial = {**stored, "other": "\n".join(stored.get("other", []))}
        return SectionForm(section, ChecklistForm(data, initial=initial, codes=codes))
    if section == "contact":
        return SectionForm(
            section,
            ContactForm(
                data, initial={**stored, "preferred_contact": stored.get("preferred_contact") or ""}
            ),
        )
    if section == "pregnancy":
        initial = {
            **stored,
            "pregnant": _tri_state_initial(stored.get("pregnant")),
            "breastfeeding": _tri_state_initial(stored.get("breastfeeding")),
        }
        return SectionForm(section, PregnancyForm(data, initial=initial))
    if section == "baseline_vitals":
        initial = dict(stored)
        if stored.get("measured_at"):
            initial["measured_at"] = timezone.localtime(
                datetime.fromisoformat(stored["measured_at"])
            )
        return SectionForm(section, VitalsForm(data, initial=initial))
    raise ValueError(f"no form for chart section {section!r}")
