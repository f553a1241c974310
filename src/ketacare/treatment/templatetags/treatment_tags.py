"""Template helpers of the session pages: highlighted values, labels, the chart's session list."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import template

from ketacare.treatment.forms import criterion_label as _criterion_label
from ketacare.treatment.models import MonitoringEntry

register = template.Library()

# Which timeline cells an alarm code highlights.
ALARM_FIELDS = {
    "bp_very_high": ("systolic", "diastolic"),
    "bp_high": ("systolic", "diastolic"),
    "bp_high_recheck": ("systolic", "diastolic"),
    "start_blocked": ("systolic", "diastolic"),
    "start_recheck": ("systolic", "diastolic"),
    "heart_rate_high": ("heart_rate",),
    "heart_rate_high_recheck": ("heart_rate",),
    "spo2_low": ("spo2",),
    "deep_sedation": ("moaas",),
    "heart_rate_low": ("heart_rate",),
    "bp_low": ("systolic", "diastolic"),
    "bp_fall": ("systolic", "diastolic"),
    "respiratory_rate_low": ("respiratory_rate",),
}


@register.filter
def flagged(entry: MonitoringEntry) -> set[str]:
    """The fields of a reading that an alarm names (for highlighting)."""
    return {name for alarm in entry.alarms for name in ALARM_FIELDS.get(alarm["code"], ())}


@register.filter
def criterion_label(name: str) -> str:
    """A discharge criterion for people."""
    return _criterion_label(name)


@register.filter
def minutes_after(moment: datetime | None, start: datetime | None) -> str:
    """Whole minutes from `start` to `moment`, e.g. '+42 min'."""
    if moment is None or start is None:
        return ""
    minutes = int((moment - start).total_seconds() // 60)
    return f"+{minutes} min" if minutes >= 0 else f"{minutes} min"


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    """`mapping[key]` in a template (None when missing)."""
    return mapping.get(key) if mapping else None


@register.filter
def mmss(seconds: int | None) -> str:
    """Seconds as 'm:ss'."""
    if seconds is None:
        return ""
    minutes, rest = divmod(max(0, int(seconds)), 60)
    return f"{minutes}:{rest:02d}"


@register.filter
def plain(value: Any) -> str:
    """A Decimal without trailing zeros ('34.20' → '34.2', '56.00' → '56')."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).normalize()
    return format(number, "f")
