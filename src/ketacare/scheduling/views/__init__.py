"""Schedule pages: the day and week calendar, booking, courses, appointments, settings, the feed.

Every page runs with the clinic's time zone active, so times shown and entered are the
clinic's wall-clock times. One module per page group, re-exported here for the URLconf.
"""

from ketacare.scheduling.views.appointments import (
    appointment_cancel,
    appointment_detail,
    appointment_new,
    appointment_reschedule,
    appointment_status,
)
from ketacare.scheduling.views.calendar import schedule_day, schedule_mine, schedule_week
from ketacare.scheduling.views.clinic_settings import (
    chair_active,
    chair_new,
    feed_rotate,
    schedule_settings,
)
from ketacare.scheduling.views.courses import (
    booster_course_new,
    course_booster,
    course_detail,
    course_new,
    course_preview,
    course_stop,
    patient_courses,
)
from ketacare.scheduling.views.feed import (
    FEED_EVENT_LIMIT,
    FEED_FUTURE_DAYS,
    FEED_PAST_DAYS,
    schedule_feed,
)

__all__ = [
    "FEED_EVENT_LIMIT",
    "FEED_FUTURE_DAYS",
    "FEED_PAST_DAYS",
    "appointment_cancel",
    "appointment_detail",
    "appointment_new",
    "appointment_reschedule",
    "appointment_status",
    "booster_course_new",
    "chair_active",
    "chair_new",
    "course_booster",
    "course_detail",
    "course_new",
    "course_preview",
    "course_stop",
    "feed_rotate",
    "patient_courses",
    "schedule_day",
    "schedule_mine",
    "schedule_feed",
    "schedule_settings",
    "schedule_week",
]
