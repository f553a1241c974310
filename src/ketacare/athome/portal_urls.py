"""The at-home dose in the patient portal, under /portal/<token>/home/ (the link is the key)."""

from django.urls import path

from ketacare.athome import portal_views

urlpatterns = [
    path("<str:token>/home/", portal_views.home, name="athome_portal"),
    path("<str:token>/home/start/", portal_views.start, name="athome_portal_start"),
    path(
        "<str:token>/home/<int:dose_id>/attest/", portal_views.attest, name="athome_portal_attest"
    ),
    path(
        "<str:token>/home/<int:dose_id>/checkin/",
        portal_views.checkin,
        name="athome_portal_checkin",
    ),
    path("<str:token>/home/<int:dose_id>/gate/", portal_views.gate, name="athome_portal_gate"),
    path("<str:token>/home/<int:dose_id>/take/", portal_views.take, name="athome_portal_take"),
    path(
        "<str:token>/home/<int:dose_id>/tracker/",
        portal_views.tracker,
        name="athome_portal_tracker",
    ),
]
