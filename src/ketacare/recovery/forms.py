"""The recovery app's forms (pages only; the API has its own schemas)."""

import secrets
from typing import Any

from django import forms

from ketacare.clinical import recovery as rules
from ketacare.clinical.instruments import get_instrument
from ketacare.recovery.models import (
    DecisionChoices,
    ProgrammeSubstance,
    ScreenResult,
    ScreenSubstance,
    SessionRequestKind,
)

DATE = forms.DateInput(attrs={"type": "date"})
TEXT = forms.Textarea(attrs={"rows": 3})


class Prefixed(forms.Form):
    """A form whose element ids start with its own prefix, so two forms on a page never share
    an id (both have a `recipient` or a `note`); field names stay as they are."""

    id_prefix = "form"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


def new_key() -> str:
    """A fresh idempotency key for a form shown once."""
    return secrets.token_hex(16)


class DecisionForm(forms.Form):
    """The prescriber's decision on a safety review."""

    decision = forms.ChoiceField(choices=DecisionChoices.choices, widget=forms.RadioSelect)
    reason = forms.CharField(widget=TEXT, max_length=2000)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, initial=new_key)


class DrugScreenForm(Prefixed):
    """A urine drug screen result for one substance."""

    id_prefix = "screen"

    collected_on = forms.DateField(widget=DATE)
    substance = forms.ChoiceField(choices=ScreenSubstance.choices)
    result = forms.ChoiceField(choices=ScreenResult.choices)
    confirmed = forms.BooleanField(required=False, label="Confirmed by a definitive test")
    prescribed = forms.BooleanField(required=False, label="The substance is prescribed")
    part2 = forms.BooleanField(required=False, label="From the substance-use programme (Part 2)")
    note = forms.CharField(required=False, max_length=200)


class SessionRequestForm(Prefixed):
    """A request for an earlier or an extra session."""

    id_prefix = "request"

    kind = forms.ChoiceField(choices=SessionRequestKind.choices, label="Asked for")
    requested_on = forms.DateField(widget=DATE)
    note = forms.CharField(required=False, max_length=200)


class PlanForm(forms.Form):
    """The relapse-prevention plan's parts; `based_on` is the version shown."""

    triggers = forms.CharField(required=False, widget=TEXT, label="My triggers")
    warning_signs = forms.CharField(required=False, widget=TEXT, label="My warning signs")
    coping = forms.CharField(required=False, widget=TEXT, label="What I do to cope")
    people = forms.CharField(required=False, widget=TEXT, label="People and groups I can call")
    crisis_contacts = forms.CharField(required=False, widget=TEXT, label="Crisis contacts")
    habits = forms.CharField(required=False, widget=TEXT, label="Sleep, exercise and food")
    reasons = forms.CharField(required=False, widget=TEXT, label="My reasons for recovery")
    based_on = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class PlanReviewForm(forms.Form):
    """The therapist's review of the current version."""

    note = forms.CharField(widget=TEXT, max_length=2000, label="Review note")
    version_number = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ProgrammeForm(forms.Form):
    """Start a substance-use programme."""

    substance = forms.ChoiceField(choices=ProgrammeSubstance.choices, label="Treats")
    started_on = forms.DateField(widget=DATE)


class UseDayForm(forms.Form):
    """Mark one day on the use calendar."""

    day = forms.DateField(widget=DATE)
    used = forms.TypedChoiceField(
        choices=[("0", "No use"), ("1", "Used")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    amount = forms.CharField(required=False, max_length=80, label="Amount (if used)")


class WithdrawalForm(forms.Form):
    """The withdrawal symptom checklist: one checkbox per symptom."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for item in get_instrument("ketamine_withdrawal_checklist").items:
            self.fields[item.id] = forms.BooleanField(required=False, label=item.text or item.label)


class ConsentForm(Prefixed):
    """A Part 2 consent: purposes and, outside TPO, the named recipient."""

    id_prefix = "consent"

    purposes = forms.MultipleChoiceField(
        choices=[
            (p, p.replace("_", " ").capitalize())
            for p in rules.PURPOSES
            if p != rules.PATIENT_REQUEST
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    recipient = forms.CharField(required=False, max_length=200)
    signed_on = forms.DateField(widget=DATE)
    expires_on = forms.DateField(widget=DATE, required=False)


class DisclosureForm(Prefixed):
    """A disclosure of Part 2 records to a recipient for a purpose."""

    id_prefix = "disclose"

    purpose = forms.ChoiceField(
        choices=[(p, p.replace("_", " ").capitalize()) for p in rules.PURPOSES]
    )
    recipient = forms.CharField(max_length=200)
