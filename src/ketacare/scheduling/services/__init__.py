"""Writes to chairs, courses and appointments: each one transactional, audited, version-checked.

Double-booking: every write that puts an appointment in a chair locks the chair row
(`select_for_update`) before looking for overlaps, so two simultaneous bookings of one chair
queue and the second sees the first. Course writes also lock the patient and the course, so
two bookings cannot both pass the protocol's limits. Locks are always taken in the order
patient, course, chair(s) by id, appointment, so writers never deadlock.

Rescheduling keeps history by rows, not by edits: the old appointment is cancelled with the
reason "rescheduled" and a new one points back to it (`rescheduled_from`) with the reason.
The booked time of a row never changes, so the audit trail, the iCal feed (a new UID) and a
treatment session linked to an appointment always mean the time that was actually booked.
"""

from ketacare.scheduling.services.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
)
from ketacare.scheduling.services.clinic_settings import (
    calendar_feed_rotate,
    chair_create,
    chair_set_active,
    clinic_schedule_update,
)
from ketacare.scheduling.services.common import (
    APPOINTMENT_TRANSITIONS,
    CANCELLABLE_STATUSES,
    DEFAULT_MINUTES,
    MAX_REASON,
    RESCHEDULED,
)
from ketacare.scheduling.services.courses import (
    booster_course_start,
    course_add_booster,
    course_readiness,
    course_start,
    course_stop,
)

__all__ = [
    "APPOINTMENT_TRANSITIONS",
    "CANCELLABLE_STATUSES",
    "DEFAULT_MINUTES",
    "MAX_REASON",
    "RESCHEDULED",
    "appointment_book",
    "appointment_cancel",
    "appointment_reschedule",
    "appointment_set_status",
    "booster_course_start",
    "calendar_feed_rotate",
    "chair_create",
    "chair_set_active",
    "clinic_schedule_update",
    "course_add_booster",
    "course_readiness",
    "course_start",
    "course_stop",
]
