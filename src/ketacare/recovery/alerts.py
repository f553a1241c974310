"""Safety alerts the recovery app opens, through the outcomes app's alerts for named events."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def event_alert_raise(
    *,
    clinic_id: int,
    patient_id: int,
    code: str,
    meaning: str,
    source_key: str,
    source_label: str,
    evidence: dict[str, Any],
    raised_at: datetime,
    username: str,
) -> int | None:
    """Open a safety alert once per source and code; its id, or None when already open."""
    from ketacare.outcomes.services import alert_raise_for_event

    alert = alert_raise_for_event(
        clinic_id=clinic_id,
        patient_id=patient_id,
        code=code,
        meaning=meaning,
        source_key=source_key,
        source_label=source_label,
        evidence=evidence,
        raised_at=raised_at,
        username=username,
    )
    return alert.pk if alert is not None else None
