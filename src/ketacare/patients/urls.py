from django.urls import path

from ketacare.patients import views

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_new, name="patient_new"),
    path("<int:patient_id>/", views.patient_detail, name="patient_detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="patient_edit"),
]
