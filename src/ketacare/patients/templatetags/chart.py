"""Template filters for the chart: codes and facts as people read them."""

from typing import Any

from django import template

from ketacare.clinical.vocabulary import load_vocabulary
from ketacare.patients.codes import condition_label as _condition_label
from ketacare.patients.sections import fact_label as _fact_label
from ketacare.patients.sections import fact_step as _fact_step

register = template.Library()


@register.filter
def condition_label(code: str) -> str:
    """`aortic_aneurysm` → "Aortic aneurysm (thoracic or abdominal)"."""
    return _condition_label(code)


@register.filter
def fact_label(name: str) -> str:
    """`systolic_mmhg` → "Blood pressure, systolic"."""
    return _fact_label(name)


@register.filter
def fact_step(name: str) -> str:
    """The intake step where a fact is recorded ("" when none)."""
    return _fact_step(name) or ""


@register.filter
def yes_no_unknown(value: Any) -> str:
    """True/False/None as Yes/No/Not known."""
    return {True: "Yes", False: "No"}.get(value, "Not known") if value is not None else "Not known"


@register.filter
def humanize_code(value: Any) -> str:
    """`no_response` → "No response"."""
    return str(value).replace("_", " ").capitalize() if value else ""


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """`mapping|get_item:key` for dicts in templates."""
    return mapping.get(key) if hasattr(mapping, "get") else None


def _describe(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_describe(item) for item in value) or "none"
    if isinstance(value, dict):
        return ", ".join(
            f"{key.replace('_', ' ')}: {_describe(item)}"
            for key, item in value.items()
            if item not in (None, "", False)
        )
    return str(value)


@register.filter
def snapshot(data: Any, changed: Any = ()) -> list[tuple[str, str, bool]]:
    """A saved section as (field, value, changed) lines for the history page."""
    if not isinstance(data, dict):
        return []
    return [
        (key.replace("_", " "), _describe(value), key in (changed or ()))
        for key, value in data.items()
    ]


CONDITION_FIELDS = ("conditions",)


def _condition_codes(codes: list[Any]) -> str:
    vocabulary = load_vocabulary()
    readings = [vocabulary.read_condition_code(str(code)) for code in codes]
    return (
        "; ".join(r.meaning if r.understood else f"{r.entry} (needs review)" for r in readings)
        or "none"
    )


@register.filter
def labelled_snapshot(data: Any) -> list[tuple[str, str, bool]]:
    """Like `snapshot`, with condition codes read as their labels from the vocabulary. Fails
    closed: a code the vocabulary does not hold is shown as recorded, marked "needs review",
    and the line is flagged (the third value)."""
    if not isinstance(data, dict):
        return []
    vocabulary = load_vocabulary()
    lines = []
    for key, value in data.items():
        if key in CONDITION_FIELDS and isinstance(value, list):
            unknown = any(
                not vocabulary.read_condition_code(str(code)).understood for code in value
            )
            lines.append((key.replace("_", " "), _condition_codes(value), unknown))
        else:
            lines.append((key.replace("_", " "), _describe(value), False))
    return lines


@register.filter
def fact_value(value: Any) -> str:
    """An eligibility fact's snapshot value as people read it."""
    if value is None:
        return "Not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        if not value:
            return "None"
        if all(isinstance(item, dict) for item in value):
            return "; ".join(_trial(item) for item in value)
        return ", ".join(_condition_label(str(item)) for item in value)
    return str(value)


def _trial(item: dict[str, Any]) -> str:
    parts = [str(item.get("drug", "?"))]
    if item.get("dose_mg"):
        parts.append(f"{item['dose_mg']} mg")
    if item.get("weeks"):
        parts.append(f"{item['weeks']} weeks")
    if item.get("outcome"):
        parts.append(str(item["outcome"]).replace("_", " "))
    if item.get("adequate_dose") is False:
        parts.append("dose not adequate")
    if item.get("current_episode") is False:
        parts.append("earlier episode")
    return " ".join(parts[:1]) + (": " + ", ".join(parts[1:]) if parts[1:] else "")
