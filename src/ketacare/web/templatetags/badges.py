"""The one badge-colour filter: `{{ value|status_colour:"SessionStatus" }}`."""

from django import template

from ketacare.kernel.choices import colour_of

register = template.Library()


@register.filter
def status_colour(value: object, enum_name: str) -> str:
    """The badge class (ok, warn, danger or none) of a status value, from its choices enum."""
    return colour_of(enum_name, value)
