"""REMS pages."""

from django.urls import path

from ketacare.rems import views

urlpatterns = [
    path("", views.queue, name="rems_queue"),
    path("forms/<int:form_id>/", views.form_detail, name="rems_form"),
    path("forms/<int:form_id>/fill/", views.form_fill, name="rems_form_fill"),
    path("forms/<int:form_id>/sign/", views.form_sign, name="rems_form_sign"),
    path("forms/<int:form_id>/submit/", views.form_submit, name="rems_form_submit"),
    path("forms/<int:form_id>/pdf/", views.form_pdf, name="rems_form_pdf"),
    path("certification/", views.certification, name="rems_certification"),
    path("patients/<int:patient_id>/enrol/", views.enrol, name="rems_enrol"),
]
