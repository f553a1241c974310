"""Writes to treatment sessions: each step one transaction, audited, recorded once.

Two protections work together:
- Steps that move the session on (pre-dose check, start decision, order, verification,
  start of dosing, devices, discharge, cancelling) name the session `version` they were decided
  on; a stale one answers 409 (`Conflict`, field `version`). A decision is never made on a view
  of the session that someone else has since changed.
- Readings, adverse events, alarm actions, pauses and stops are appended or applied to the
  current state under the session's row lock without naming a version: two nurses recording
  readings never block each other, and pausing an infusion can never fail for being "stale".
Every POST step also carries an idempotency key, unique per clinic: a retry of the same
submission (double click, network retry) returns the first result and records nothing twice.
"""

from ketacare.treatment.services.administration import (
    administration_complete,
    administration_start,
    esketamine_device_record,
    infusion_change_record,
)
from ketacare.treatment.services.check_in import session_check_in
from ketacare.treatment.services.corrections import (
    adverse_event_enter_in_error,
    adverse_event_follow_up,
    monitoring_entry_enter_in_error,
)
from ketacare.treatment.services.discharge import (
    discharge_record,
    session_cancel,
    unanswered_alarms,
)
from ketacare.treatment.services.dose import dose_order_create, dose_order_reject, dose_order_verify
from ketacare.treatment.services.medicines import (
    medicine_given_enter_in_error,
    medicine_given_record,
)
from ketacare.treatment.services.monitoring import (
    adverse_event_record,
    monitoring_action_record,
    monitoring_entry_record,
)
from ketacare.treatment.services.predose import predose_check_record, start_decision_record
from ketacare.treatment.services.steps import IDEMPOTENCY_KEY, MAX_TEXT

__all__ = [
    "IDEMPOTENCY_KEY",
    "MAX_TEXT",
    "administration_complete",
    "administration_start",
    "adverse_event_enter_in_error",
    "adverse_event_follow_up",
    "adverse_event_record",
    "discharge_record",
    "dose_order_create",
    "dose_order_reject",
    "dose_order_verify",
    "esketamine_device_record",
    "infusion_change_record",
    "medicine_given_enter_in_error",
    "medicine_given_record",
    "monitoring_action_record",
    "monitoring_entry_enter_in_error",
    "monitoring_entry_record",
    "predose_check_record",
    "session_cancel",
    "session_check_in",
    "start_decision_record",
    "unanswered_alarms",
]
