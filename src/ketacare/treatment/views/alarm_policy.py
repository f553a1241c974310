"""The clinic's alarm thresholds page: the policy defaults, the clinic's tighter values."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketacare.accounts.permissions import Permission
from ketacare.clinical.profiles import LOWER_TIGHTENS, TUNABLE_ALARMS
from ketacare.errors import KetaCareError
from ketacare.treatment.services.alarm_policy import (
    alarm_policy_current,
    alarm_policy_set,
    default_alarm_thresholds,
)
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form

LABELS = {
    "bp_confirmed_systolic": "Systolic at or above (twice, minutes apart)",
    "bp_confirmed_diastolic": "Diastolic at or above (twice, minutes apart)",
    "bp_once_systolic": "Systolic at or above (once)",
    "bp_once_diastolic": "Diastolic at or above (once)",
    "heart_rate_above": "Heart rate above",
    "systolic_fall_percent_above": "Systolic fall from before dosing, more than (%)",
    "heart_rate_below": "Heart rate below",
    "systolic_below": "Systolic below",
    "spo2_below": "SpO2 below (%)",
    "respiratory_rate_below": "Respiratory rate below",
    "moaas_at_or_below": "MOAA/S at or below",
}


class AlarmPolicyForm(forms.Form):
    """One field per threshold, starting at the value in force; a reason for the change."""

    reason = forms.CharField(label="Why the change", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, current: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = default_alarm_thresholds()
        for name in TUNABLE_ALARMS:
            default = getattr(defaults, name)
            way = "lower" if name in LOWER_TIGHTENS else "higher"
            self.fields[name] = forms.IntegerField(
                label=LABELS[name],
                min_value=0,
                initial=current.get(name, default),
                help_text=f"Policy default {default}; a clinic may set it {way}, not the "
                "other way.",
            )
        self.order_fields([*TUNABLE_ALARMS, "reason"])


@clinic_view(Permission.CLINIC_MANAGE)
def alarm_policy(request: HttpRequest) -> HttpResponse:
    """Show the alarm thresholds in force; a clinic admin tightens them, with a reason."""
    actor = actor_of(request)
    current = alarm_policy_current(actor=actor)
    values = dict(current.thresholds) if current else {}
    form = AlarmPolicyForm(request.POST or None, current=values)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                alarm_policy_set(actor=actor, thresholds=data, reason=reason)
            except KetaCareError as refusal:
                status = refusal_to_form(form, refusal)
            else:
                messages.success(request, "Alarm thresholds saved.")
                return redirect("alarm_policy")
        else:
            status = 422
    return render(
        request,
        "treatment/alarm_policy.html",
        {"form": form, "current": current, "may_change": True},
        status=status,
    )
