"""Template filters for measurement-based care."""

import secrets

from django import template

from ketacare.clinical import InvalidInput
from ketacare.clinical.alerts import AlertDue
from ketacare.clinical.instruments import get_instrument
from ketacare.outcomes.models import SafetyAlert
from ketacare.outcomes.selectors import alert_due_for_actor

register = template.Library()


@register.filter
def instrument_name(instrument_id: str) -> str:
    """The instrument's short name (PHQ-9) from its id (phq9)."""
    try:
        return get_instrument(instrument_id).short_name
    except InvalidInput:
        return instrument_id


@register.simple_tag
def new_idempotency_key() -> str:
    """A fresh key for a form, so a double submission is recognised as one."""
    return secrets.token_hex(16)


@register.simple_tag(takes_context=True)
def alert_due(context: template.Context, alert: SafetyAlert) -> AlertDue | None:
    """When the alert is due and whether it is overdue, in the clinic's day (the core's rule)."""
    request = context.get("request")
    actor = getattr(request, "actor", None)
    if actor is None:
        return None
    return alert_due_for_actor(actor=actor, alert=alert)
