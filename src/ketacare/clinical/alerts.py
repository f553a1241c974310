"""How fast a safety alert needs a person, from the meaning the core gives each alert code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from ketacare.clinical.athome import load_home_rules
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.instruments import ALERT_CSSRS_HIGH, ALERT_CSSRS_MODERATE, ALERT_SUICIDALITY
from ketacare.clinical.misuse import ALERT_MISUSE_SEVERE, ALERT_WITHDRAWAL
from ketacare.clinical.monitoring import (
    ALARM_BP_FALL,
    ALARM_BP_HIGH,
    ALARM_BP_LOW,
    ALARM_BP_VERY_HIGH,
    ALARM_DEEP_SEDATION,
    ALARM_HEART_RATE_HIGH,
    ALARM_HEART_RATE_LOW,
    ALARM_RESPIRATORY_RATE_LOW,
    ALARM_SPO2_LOW,
)
from ketacare.clinical.outcomes import ALERT_DETERIORATION

IMMEDIATE = "immediate"
SAME_DAY = "same_day"
REVIEW = "review"
URGENCIES = (IMMEDIATE, SAME_DAY, REVIEW)

# C-SSRS high: "immediate safety assessment" (Columbia triage); PHQ-9 item 9 and C-SSRS moderate:
# follow-up the same day (reference §4); a large deterioration: review. A vital-sign alarm during
# a session needs a person at the chair now (reference §3: pause and call the prescriber).
URGENCY = {
    ALERT_CSSRS_HIGH: IMMEDIATE,
    ALERT_SUICIDALITY: SAME_DAY,
    ALERT_CSSRS_MODERATE: SAME_DAY,
    ALERT_DETERIORATION: REVIEW,
    # Misuse signals in a severe combination and withdrawal at its threshold: a prescriber the
    # same day (policy defaults, data/misuse.toml).
    ALERT_MISUSE_SEVERE: SAME_DAY,
    ALERT_WITHDRAWAL: SAME_DAY,
    ALARM_BP_VERY_HIGH: IMMEDIATE,
    ALARM_BP_HIGH: IMMEDIATE,
    ALARM_BP_LOW: IMMEDIATE,
    ALARM_BP_FALL: IMMEDIATE,
    ALARM_HEART_RATE_HIGH: IMMEDIATE,
    ALARM_HEART_RATE_LOW: IMMEDIATE,
    ALARM_RESPIRATORY_RATE_LOW: IMMEDIATE,
    ALARM_SPO2_LOW: IMMEDIATE,
    ALARM_DEEP_SEDATION: IMMEDIATE,
}


def urgency(code: str) -> str:
    """The urgency of an alert or alarm code; an unknown code is immediate (fail closed)."""
    if code in URGENCY:
        return URGENCY[code]
    return load_home_rules().urgency_of(code) or IMMEDIATE


def rank(urgency_name: str) -> int:
    """Sort key: immediate first; an unknown urgency sorts first too (fail closed)."""
    return URGENCIES.index(urgency_name) if urgency_name in URGENCIES else 0


@dataclass(frozen=True)
class AlertDue:
    """When an alert needs a person by, and whether it is overdue now (unresolved past that)."""

    urgency: str
    due_by: datetime | None
    overdue: bool


def due(
    urgency_name: str, *, raised_at: datetime, resolved: bool, now: datetime, zone: tzinfo
) -> AlertDue:
    """When an alert of this urgency is due, in the clinic's day, and whether it is overdue.

    Immediate: due when raised. Same day: by the end of the clinic-local day it was raised
    (reference §4: suicide-risk follow-up the same day), so yesterday's is overdue today.
    Review: no deadline. An unknown urgency is immediate (fail closed); a resolved alert is
    never overdue.
    """
    for value, name in ((raised_at, "raised_at"), (now, "now")):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(f"{name} must be a timezone-aware datetime", field=name)
    kind = urgency_name if urgency_name in URGENCIES else IMMEDIATE
    due_by: datetime | None
    if kind == IMMEDIATE:
        due_by = raised_at
    elif kind == SAME_DAY:
        day = raised_at.astimezone(zone).date()
        due_by = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    else:
        due_by = None
    overdue = not resolved and due_by is not None and now > due_by
    return AlertDue(kind, due_by, overdue)
