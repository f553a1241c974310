"""Template tags of follow-up care."""

from django import template

from ketacare.clinical.instruments import get_instrument
from ketacare.followup.policy import portal_instruments

register = template.Library()


@register.simple_tag
def portal_instrument_choices() -> list[tuple[str, str]]:
    """(id, short name) of the instruments patients answer in the portal."""
    return [(i, get_instrument(i).short_name) for i in portal_instruments()]
