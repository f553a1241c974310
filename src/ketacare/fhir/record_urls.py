"""The patient's record download in the portal, under /portal/record/."""

from django.urls import path

from ketacare.fhir import record_views

urlpatterns = [
    path("<str:token>/", record_views.record_portal, name="record_portal"),
    path("<str:token>/record.json", record_views.record_portal_json, name="record_portal_json"),
    path("<str:token>/summary.pdf", record_views.record_portal_pdf, name="record_portal_pdf"),
]
