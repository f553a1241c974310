from django.urls import path

from ketacare.screening import views

urlpatterns = [
    path("patients/<int:patient_id>/", views.patient_screenings, name="screening_patient"),
    path("patients/<int:patient_id>/run/", views.screening_run, name="screening_run"),
    path("<int:screening_id>/", views.screening_detail, name="screening_detail"),
    path("<int:screening_id>/sign/", views.screening_sign, name="screening_sign"),
    path("<int:screening_id>/cosign/", views.screening_cosign, name="screening_cosign"),
]
