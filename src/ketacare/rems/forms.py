"""The REMS app's forms."""

from django import forms

from ketacare.rems.models import CertificationStatus, SubmissionMethod

DATE = forms.DateInput(attrs={"type": "date"})


class CertificationForm(forms.Form):
    """The setting's certification, or a change in it."""

    certification_id = forms.CharField(max_length=64, label="REMS certification id")
    location = forms.CharField(max_length=200, label="Location (name and address)")
    authorised_representative = forms.CharField(max_length=200)
    certified_on = forms.DateField(widget=DATE)
    valid_until = forms.DateField(widget=DATE, required=False)
    status = forms.ChoiceField(choices=CertificationStatus.choices)


class EnrolmentForm(forms.Form):
    """A patient's REMS enrolment."""

    rems_patient_id = forms.CharField(max_length=64, label="REMS patient id")
    enrolled_on = forms.DateField(widget=DATE)
    signed_by_patient = forms.BooleanField(label="The patient signed the enrolment form")
    prescriber_id = forms.TypedChoiceField(coerce=int, label="Prescriber who signed")


class SubmissionForm(forms.Form):
    """How and when the form reached the REMS."""

    submitted_on = forms.DateField(widget=DATE)
    method = forms.ChoiceField(choices=SubmissionMethod.choices)
    confirmation_number = forms.CharField(max_length=64)
    late_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Why late (if late)"
    )
