"""How fast a safety alert needs a person, from the meaning the core gives each alert code."""

from __future__ import annotations

from ketacare.clinical.athome import load_home_rules
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
