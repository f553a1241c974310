"""Web forms for patient demographics; they validate, the services write."""

from datetime import date

from django import forms

from ketacare.patients.models import Patient


class PatientForm(forms.ModelForm):  # type: ignore[type-arg]
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
        if value > date.today():  # noqa: DTZ011 - a birth date is a calendar date
            raise forms.ValidationError("Date of birth cannot be in the future.")
        return value
