from django.apps import AppConfig


class WebConfig(AppConfig):
    """Base templates, vendored static files, the htmx helpers and the staff home page."""

    name = "ketacare.web"
    label = "web"
