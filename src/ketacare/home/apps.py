from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The top of the staff site: sign-in and sign-out, choosing a clinic, the home page, the
    error pages, and loading the demo data. It may import every app; no app imports it."""

    name = "ketacare.home"
    label = "home"
