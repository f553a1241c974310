"""Staff pages of the FHIR app, under /records/."""

from django.urls import path

from ketacare.fhir import record_views

urlpatterns = [
    path("patients/<int:patient_id>/", record_views.record_link_page, name="record_link"),
]
