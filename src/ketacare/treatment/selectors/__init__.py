"""Reads of treatment sessions, scoped to the actor's clinic and audited.

Split along the session's seams: `access` (the clinic's sessions, one session for the actor, the
clinic's day), `record` (the whole session for its page, and what needs the nurse now), `timeline`
(the polled monitoring fragment), `day` (Today's sessions, a patient's sessions), `dosing` (the
dose preview and what is shown beside the dose) and `rems` (the REMS monitoring record).
"""

from ketacare.treatment.selectors.access import (
    local_day,
    recent_discharge_of,
    session_get_for_actor,
    sessions_of_clinic,
    today,
)
from ketacare.treatment.selectors.day import DayRow, patient_sessions, sessions_for_day
from ketacare.treatment.selectors.dosing import DosingContext, dose_plan_preview, dosing_context
from ketacare.treatment.selectors.record import (
    Attention,
    DueReading,
    SessionRecord,
    attention,
    due_readings,
    session_record,
    timeline_fingerprint,
)
from ketacare.treatment.selectors.rems import (
    ABOUT,
    REMS_MEDICINE_RULES,
    RemsRecord,
    rems_record,
)
from ketacare.treatment.selectors.timeline import (
    Timeline,
    session_timeline,
    session_timeline_version,
)

__all__ = [
    "ABOUT",
    "REMS_MEDICINE_RULES",
    "Attention",
    "DayRow",
    "DosingContext",
    "DueReading",
    "RemsRecord",
    "SessionRecord",
    "Timeline",
    "attention",
    "dose_plan_preview",
    "dosing_context",
    "due_readings",
    "local_day",
    "patient_sessions",
    "recent_discharge_of",
    "rems_record",
    "session_get_for_actor",
    "session_record",
    "session_timeline",
    "session_timeline_version",
    "sessions_for_day",
    "sessions_of_clinic",
    "timeline_fingerprint",
    "today",
]
