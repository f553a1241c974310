"""Template filters for measurement-based care."""

import secrets

from django import template

from ketacare.clinical import InvalidInput
from ketacare.clinical.instruments import get_instrument

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
