"""Staff forms of the at-home programme: enrolment, the prescription with its telemedicine
record, and the prescriber's dose step. Validation of meaning is the services' (and the core's);
these check shape only, so a refusal always comes from the one place that decides."""

from __future__ import annotations

from typing import Any

from django import forms

from ketacare.athome.models import PdmpResult, VisitModality
from ketacare.clinical.telehealth import load_telehealth_rules

DATE = forms.DateInput(attrs={"type": "date"})


class EnrolForm(forms.Form):
    """Enrol a patient (found by MRN) after the evaluation visit, naming the sitter."""

    mrn = forms.CharField(label="Patient's MRN", max_length=40)
    evaluation_on = forms.DateField(label="Evaluation visit", widget=DATE)
    evaluation_modality = forms.ChoiceField(
        label="How the evaluation took place", choices=VisitModality.choices
    )
    sitter_name = forms.CharField(label="Sitter's name", max_length=120)
    sitter_phone = forms.CharField(label="Sitter's phone", max_length=40, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)


class PrescriptionForm(forms.Form):
    """The prescription and the telemedicine record it rests on."""

    issued_on = forms.DateField(label="Date", widget=DATE)
    drug = forms.CharField(max_length=120, initial="Ketamine HCl")
    strength_mg = forms.DecimalField(label="Strength (mg per unit)", min_value=0, max_digits=6)
    form = forms.CharField(label="Form", max_length=60, initial="sublingual troche")
    quantity = forms.IntegerField(min_value=1, max_value=100)
    directions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    refills = forms.IntegerField(min_value=0, max_value=12, initial=0)
    pharmacy = forms.CharField(label="Dispensing pharmacy", max_length=200)
    visit_modality = forms.ChoiceField(label="Visit", choices=VisitModality.choices)
    patient_state = forms.CharField(
        label="Patient's state at the visit", max_length=2, help_text="Two letters, e.g. CA"
    )
    dea_registration = forms.CharField(label="Your DEA registration", max_length=20)
    dea_registration_state = forms.CharField(label="State of that registration", max_length=2)
    in_person_evaluation_on = forms.DateField(
        label="In-person evaluation (if any)", widget=DATE, required=False
    )
    pdmp_checked_on = forms.DateField(label="PDMP checked on", widget=DATE, required=False)
    pdmp_result = forms.ChoiceField(
        label="PDMP result", choices=[("", "—"), *PdmpResult.choices], required=False
    )
    pdmp_review = forms.CharField(
        label="Your review of PDMP findings", widget=forms.Textarea(attrs={"rows": 2}),
        required=False, max_length=2000,
    )  # fmt: skip
    legal_basis = forms.ChoiceField(label="Legal basis", required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["legal_basis"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        bases = load_telehealth_rules().bases.values()
        field.choices = [("", "—"), *((b.id, b.label) for b in bases)]


class DoseStepForm(forms.Form):
    """The prescriber's new home dose within the protocol, and why."""

    dose_mg = forms.DecimalField(label="New dose (mg)", min_value=0, max_digits=6)
    reason = forms.CharField(
        label="Why (from the trackers)", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class LossForm(forms.Form):
    """Units the patient reports lost or missing."""

    units = forms.IntegerField(label="Units lost or missing", min_value=1, max_value=100)
    note = forms.CharField(label="What the patient said", max_length=2000)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
