"""Staff pages of measurement-based care, under /outcomes/."""

from django.urls import path

from ketacare.outcomes import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/banner/", views.alert_banner, name="alert_banner"),
    path("alerts/panel/", views.home_panel, name="outcomes_home_panel"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:alert_id>/assign/", views.alert_assign, name="alert_assign"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("dashboard/", views.dashboard, name="outcomes_dashboard"),
    path("boosters/", views.booster_list, name="booster_worklist"),
    path("overdue/", views.overdue_list, name="overdue_questionnaires"),
    path("policy/", views.policy_edit, name="questionnaire_policy"),
    path("patients/<int:patient_id>/", views.patient_outcomes, name="patient_outcomes"),
    path("patients/<int:patient_id>/send/", views.patient_send, name="questionnaire_send"),
    path("patients/<int:patient_id>/qr/", views.patient_qr, name="questionnaire_qr"),
    path(
        "patients/<int:patient_id>/journal-link/",
        views.patient_journal_link,
        name="journal_link",
    ),
    path("patients/<int:patient_id>/journal/", views.patient_journal, name="patient_journal"),
    path(
        "patients/<int:patient_id>/integration-notes/",
        views.patient_integration_notes,
        name="patient_integration_notes",
    ),
    path(
        "patients/<int:patient_id>/integration-notes/new/",
        views.integration_note_new,
        name="integration_note_new",
    ),
]
