"""Second-factor pages and the clinic's staff page."""

from django.urls import path

from ketacare.home import mfa_views as views

urlpatterns = [
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/verify/", views.mfa_verify_view, name="mfa_verify"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<int:membership_id>/mfa-reset/", views.staff_mfa_reset, name="staff_mfa_reset"),
]
