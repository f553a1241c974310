"""Session pages under /sessions/."""

from django.urls import path

from ketacare.treatment import views
from ketacare.treatment.views import board, corrections

urlpatterns = [
    path("", views.session_list, name="session_list"),
    path("board/", board.session_board, name="session_board"),
    path("board/exceptions/", board.board_exceptions, name="session_board_exceptions"),
    path("check-in/", views.session_check_in, name="session_check_in"),
    path("alarm-thresholds/", views.alarm_policy, name="alarm_policy"),
    path("patients/<int:patient_id>/", views.patient_sessions, name="patient_sessions"),
    path("<int:session_id>/", views.session_detail, name="session_detail"),
    path("<int:session_id>/timeline/", views.session_timeline, name="session_timeline"),
    path("<int:session_id>/pre-check/", views.pre_check, name="session_pre_check"),
    path("<int:session_id>/start-decision/", views.start_decision, name="session_start_decision"),
    path("<int:session_id>/dose-order/", views.dose_order, name="session_dose_order"),
    path("<int:session_id>/dose-order/verify/", views.dose_verify, name="session_dose_verify"),
    path("<int:session_id>/dose-order/reject/", views.dose_reject, name="session_dose_reject"),
    path(
        "<int:session_id>/administration/",
        views.administration_start,
        name="session_administration_start",
    ),
    path(
        "<int:session_id>/administration/device/",
        views.esketamine_device,
        name="session_esketamine_device",
    ),
    path(
        "<int:session_id>/administration/change/",
        views.infusion_change,
        name="session_infusion_change",
    ),
    path(
        "<int:session_id>/administration/complete/",
        views.administration_complete,
        name="session_administration_complete",
    ),
    path("<int:session_id>/monitoring/", views.monitoring_entry, name="session_monitoring"),
    path(
        "<int:session_id>/monitoring/<int:monitoring_entry_id>/action/",
        views.monitoring_action,
        name="session_monitoring_action",
    ),
    path("<int:session_id>/adverse-events/", views.adverse_event, name="session_adverse_event"),
    path(
        "<int:session_id>/monitoring/<int:monitoring_entry_id>/entered-in-error/",
        corrections.monitoring_entry_entered_in_error,
        name="session_reading_entered_in_error",
    ),
    path(
        "<int:session_id>/adverse-events/<int:adverse_event_id>/entered-in-error/",
        corrections.adverse_event_entered_in_error,
        name="session_adverse_event_entered_in_error",
    ),
    path(
        "<int:session_id>/adverse-events/<int:adverse_event_id>/follow-up/",
        corrections.adverse_event_follow_up,
        name="session_adverse_event_follow_up",
    ),
    path("<int:session_id>/medicines/", views.medicine_given, name="session_medicine_given"),
    path(
        "<int:session_id>/medicines/<int:medicine_given_id>/entered-in-error/",
        corrections.medicine_given_entered_in_error,
        name="session_medicine_given_entered_in_error",
    ),
    path("<int:session_id>/discharge/", views.discharge, name="session_discharge"),
    path("<int:session_id>/cancel/", views.cancel, name="session_cancel"),
    path("<int:session_id>/summary/", views.session_summary, name="session_summary"),
    path("<int:session_id>/rems/", views.rems_record, name="session_rems"),
]
