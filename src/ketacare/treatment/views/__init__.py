"""The chair-side session pages: today's list, the session page and its steps, the printouts.

Each step is a small POST view that parses a form, calls one service and goes back to the
session page (Post/Redirect/Get). A refused step renders the session page again with the form
as typed and the reason, with the HTTP status of the refusal (409 stale, 422 refused).
Readings are added with htmx without reloading, and the timeline is polled.
"""

from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.treatment.views.alarm_policy import alarm_policy
from ketacare.treatment.views.chair_steps import (
    administration_complete,
    administration_start,
    adverse_event,
    cancel,
    discharge,
    esketamine_device,
    infusion_change,
    medicine_given,
    monitoring_action,
    monitoring_entry,
)
from ketacare.treatment.views.dose_steps import (
    dose_order,
    dose_reject,
    dose_verify,
    pre_check,
    start_decision,
)
from ketacare.treatment.views.lists import patient_sessions, session_check_in, session_list
from ketacare.treatment.views.printouts import rems_record, session_summary
from ketacare.treatment.views.session_page import session_detail, session_timeline

__all__ = [
    "administration_complete",
    "alarm_policy",
    "administration_start",
    "adverse_event",
    "cancel",
    "discharge",
    "medicine_given",
    "dose_order",
    "dose_reject",
    "dose_verify",
    "esketamine_device",
    "in_clinic_time",
    "infusion_change",
    "monitoring_action",
    "monitoring_entry",
    "patient_sessions",
    "pre_check",
    "rems_record",
    "session_check_in",
    "session_detail",
    "session_list",
    "session_summary",
    "session_timeline",
    "start_decision",
]
