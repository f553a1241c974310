"""Schedule pages: calendar, appointments, courses, settings, and the staff iCalendar feed."""

from django.urls import path

from ketacare.scheduling import views

urlpatterns = [
    path("", views.schedule_day, name="schedule_day"),
    path("week/", views.schedule_week, name="schedule_week"),
    path("mine/", views.schedule_mine, name="schedule_mine"),
    path("appointments/new/", views.appointment_new, name="appointment_new"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment_detail"),
    path(
        "appointments/<int:appointment_id>/reschedule/",
        views.appointment_reschedule,
        name="appointment_reschedule",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel,
        name="appointment_cancel",
    ),
    path(
        "appointments/<int:appointment_id>/status/",
        views.appointment_status,
        name="appointment_status",
    ),
    path("patients/<int:patient_id>/courses/", views.patient_courses, name="patient_courses"),
    path("patients/<int:patient_id>/courses/new/", views.course_new, name="course_new"),
    path("courses/preview/", views.course_preview, name="course_preview"),
    path("courses/<int:course_id>/", views.course_detail, name="course_detail"),
    path("courses/<int:course_id>/stop/", views.course_stop, name="course_stop"),
    path("courses/<int:course_id>/booster/", views.course_booster, name="course_booster"),
    path(
        "courses/<int:course_id>/booster-course/",
        views.booster_course_new,
        name="booster_course_new",
    ),
    path("settings/", views.schedule_settings, name="schedule_settings"),
    path("chairs/new/", views.chair_new, name="chair_new"),
    path("chairs/<int:chair_id>/active/", views.chair_active, name="chair_active"),
    path("feed/rotate/", views.feed_rotate, name="feed_rotate"),
    # Token-authenticated (no sign-in): staff calendar apps subscribe to this URL.
    path("feed.ics", views.schedule_feed, name="schedule_feed"),
]
