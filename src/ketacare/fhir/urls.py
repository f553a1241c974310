"""The FHIR R4 base, /fhir/r4/: metadata, Bulk Data, read and search."""

from django.urls import path, re_path

from ketacare.fhir import views

TYPE = r"(?P<resource_type>[A-Z][A-Za-z]{1,40})"
ID = r"(?P<rid>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    path("metadata", views.metadata, name="fhir_metadata"),
    path("$export", views.export_system, name="fhir_export_system"),
    path("Patient/$export", views.export_patients, name="fhir_export_patients"),
    re_path(
        r"^Group/(?P<group>[A-Za-z0-9\-.]{1,64})/\$export$",
        views.export_group,
        name="fhir_export_group",
    ),
    path("$export-poll-status/<int:job>", views.export_status, name="fhir_export_status"),
    path("$export-file/<int:job>/<int:file>", views.export_file, name="fhir_export_file"),
    re_path(rf"^{TYPE}/_search$", views.search, name="fhir_search_post"),
    re_path(rf"^{TYPE}$", views.search, name="fhir_search"),
    re_path(rf"^{TYPE}/{ID}$", views.read, name="fhir_read"),
]
