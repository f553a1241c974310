from django.urls import path

from ketacare.consent import views

urlpatterns = [
    path("documents/", views.documents, name="consent_documents"),
    path("documents/new/", views.document_new, name="consent_document_new"),
    path("documents/<int:document_id>/", views.document_detail, name="consent_document"),
    path("documents/<int:document_id>/edit/", views.document_edit, name="consent_document_edit"),
    path("versions/<int:document_version_id>/", views.version_detail, name="consent_version"),
    path("patients/<int:patient_id>/", views.patient_consents, name="consent_patient"),
    path("patients/<int:patient_id>/sign/", views.signature_new, name="consent_sign"),
    path("signatures/<int:signature_id>/", views.signature_detail, name="consent_signature"),
    path(
        "signatures/<int:signature_id>/entered-in-error/",
        views.signature_entered_in_error,
        name="consent_entered_in_error",
    ),
    path(
        "signatures/<int:signature_id>/withdraw/",
        views.signature_withdraw,
        name="consent_withdraw",
    ),
]
