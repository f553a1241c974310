"""Staff pages of follow-up care, under /outcomes/ beside the safety alerts."""

from django.urls import path

from ketacare.followup import views

urlpatterns = [
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
    path(
        "patients/<int:patient_id>/intake-link/",
        views.patient_intake_link,
        name="intake_link",
    ),
    path("patients/<int:patient_id>/journal/", views.patient_journal, name="patient_journal"),
    path(
        "patients/<int:patient_id>/integration-notes/",
        views.patient_integration_notes,
        name="patient_integration_notes",
    ),
    path(
        "patients/<int:patient_id>/integration-notes/<int:note_id>/entered-in-error/",
        views.integration_note_entered_in_error,
        name="integration_note_entered_in_error",
    ),
    path(
        "patients/<int:patient_id>/integration-notes/new/",
        views.integration_note_new,
        name="integration_note_new",
    ),
]
