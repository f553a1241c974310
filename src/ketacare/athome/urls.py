"""At-home programme pages for staff, under /athome/."""

from django.urls import path

from ketacare.athome import staff_views, telehealth_views, views

urlpatterns = [
    path("", views.board, name="athome_board"),
    path("enrol/", staff_views.enrol, name="athome_enrol"),
    path("programmes/<int:programme_id>/", views.programme_detail, name="athome_programme"),
    path(
        "programmes/<int:programme_id>/prescribe/", staff_views.prescribe, name="athome_prescribe"
    ),
    path("programmes/<int:programme_id>/dispense/", staff_views.dispense, name="athome_dispense"),
    path("programmes/<int:programme_id>/loss/", staff_views.loss, name="athome_loss"),
    path("programmes/<int:programme_id>/dose-step/", staff_views.dose_step, name="athome_step"),
    path("programmes/<int:programme_id>/links/", staff_views.links, name="athome_links"),
    path("programmes/<int:programme_id>/status/", staff_views.status, name="athome_status"),
    path("programmes/<int:programme_id>/refill/", views.refill, name="athome_refill"),
    path("programmes/<int:programme_id>/review/", views.review, name="athome_review"),
    path("telehealth/", telehealth_views.telehealth_settings, name="athome_telehealth"),
    path("telehealth/set/", telehealth_views.telehealth_policy, name="athome_telehealth_set"),
    path(
        "prescriptions/<int:prescription_id>/pdf/", views.prescription_print, name="athome_rx_pdf"
    ),
]
