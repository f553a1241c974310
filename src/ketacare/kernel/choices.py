"""Choice enums that carry the colour of their badge, so templates hold no if-chains of colours.

A status enum subclasses `ColouredChoices` and says its colours once in `badge_colours()`;
templates write `<span class="badge {{ row.status|status_colour:"SessionStatus" }}">`.
"""

from typing import Any

from django.db import models

OK, WARN, DANGER, PLAIN = "ok", "warn", "danger", ""

CHOICES_BY_NAME: dict[str, type["ColouredChoices"]] = {}


class ColouredChoices(models.TextChoices):
    """TextChoices whose members each have a badge colour: ok, warn, danger, or plain."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ in CHOICES_BY_NAME:
            raise TypeError(f"Two coloured choice enums are named {cls.__name__}.")
        CHOICES_BY_NAME[cls.__name__] = cls

    @classmethod
    def badge_colours(cls) -> dict[str, str]:
        """The colour of each value that is not plain."""
        return {}

    @classmethod
    def colour_of(cls, value: object) -> str:
        """The badge colour of a stored value (plain for a value without one)."""
        return cls.badge_colours().get(str(value), PLAIN)


def colour_of(enum_name: str, value: object) -> str:
    """The badge colour of `value` in the coloured choices named `enum_name`."""
    try:
        choices = CHOICES_BY_NAME[enum_name]
    except KeyError:
        raise LookupError(f"No coloured choices are named {enum_name}.") from None
    return choices.colour_of(value)
