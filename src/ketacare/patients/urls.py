from django.urls import path

from ketacare.patients import views

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_new, name="patient_new"),
    path("vocabulary/check/", views.vocabulary_check, name="patient_vocabulary_check"),
    path("<int:patient_id>/", views.patient_detail, name="patient_detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="patient_edit"),
    path("<int:patient_id>/merge/", views.patient_merge, name="patient_merge"),
    path("<int:patient_id>/contact/", views.contact_edit, name="patient_contact_edit"),
    path("<int:patient_id>/intake/", views.intake, name="patient_intake"),
    path("<int:patient_id>/intake/finish/", views.intake_finish, name="patient_intake_finish"),
    path(
        "<int:patient_id>/intake-forms/<int:intake_submission_id>/",
        views.intake_submission,
        name="patient_intake_submission",
    ),
    path("<int:patient_id>/history/", views.chart_history, name="patient_chart_history"),
    path(
        "measurements/<int:measurement_id>/void/",
        views.measurement_void,
        name="patient_measurement_void",
    ),
]
