"""Staff pages of measurement-based care, under /outcomes/: the safety alerts."""

from django.urls import path

from ketacare.outcomes import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/banner/", views.alert_banner, name="alert_banner"),
    path("alerts/panel/", views.home_panel, name="outcomes_home_panel"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:alert_id>/assign/", views.alert_assign, name="alert_assign"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path(
        "responses/<int:response_id>/entered-in-error/",
        views.scale_response_entered_in_error,
        name="scale_response_entered_in_error",
    ),
]
