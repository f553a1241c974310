"""The clinic's telemedicine-prescribing setting: the periods in force and, for an administrator,
the legal bases of the periods a clinic may configure (what applies after 31 Dec 2026)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.athome import telehealth
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.telehealth import load_telehealth_rules
from ketacare.errors import KetaCareError
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


class PolicyForm(forms.Form):
    """The bases of one configurable period, with the reason and the version the page showed."""

    period_id = forms.CharField(widget=forms.HiddenInput)
    bases = forms.MultipleChoiceField(
        label="Legal bases allowed", widget=forms.CheckboxSelectMultiple, required=False
    )
    reason = forms.CharField(
        label="Why (the rule, extension or decision behind it)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["bases"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - declared above
        field.choices = [(b.id, b.label) for b in load_telehealth_rules().bases.values()]


def _page(
    request: HttpRequest, actor: Actor, bound: PolicyForm | None = None, status: int = 200
) -> HttpResponse:
    rules = telehealth.telehealth_rules_for(clinic_id=actor.clinic_id)
    version = telehealth.policy_version(clinic_id=actor.clinic_id)
    labels = {b.id: b.label for b in rules.bases.values()}
    periods = []
    for period in rules.periods:
        form = None
        if period.configurable and actor.can(Permission.ATHOME_RULES_MANAGE):
            if bound is not None and bound.data.get("period_id") == period.id:
                form = bound
            else:
                initial = {"period_id": period.id, "bases": list(period.bases), "version": version}
                form = PolicyForm(initial=initial, prefix=None)
        periods.append({"period": period, "bases": [labels[b] for b in period.bases], "form": form})
    history = telehealth.policy_history(actor=actor)
    audit_record(actor=actor, action=AuditAction.READ, object_type="telehealth_policy")
    context = {"periods": periods, "history": history, "labels": labels}
    return render_page(request, "athome/telehealth.html", context, status=status)


@clinic_view(Permission.ATHOME_RULES_VIEW)
def telehealth_settings(request: HttpRequest) -> HttpResponse:
    """The prescribing periods in force for this clinic and the history of its choices."""
    return _page(request, actor_of(request))


@clinic_view(Permission.ATHOME_RULES_MANAGE)
@require_POST
def telehealth_policy(request: HttpRequest) -> HttpResponse:
    """An administrator sets the legal bases of a configurable period."""
    actor = actor_of(request)
    form = PolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, actor, form, status=422)
    data = form.cleaned_data
    try:
        telehealth.telehealth_policy_set(
            actor=actor,
            period_id=data["period_id"],
            bases=data["bases"],
            reason=data["reason"],
            version=data["version"],
        )
    except KetaCareError as refusal:
        return _page(request, actor, form, status=refusal_to_form(form, refusal))
    messages.success(request, "The telemedicine setting is saved; new prescriptions follow it.")
    return redirect("athome_telehealth")
