from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Versioned consent documents per route and the patients' signatures on them."""

    name = "ketacare.consent"
    label = "consent"
    default_auto_field = "django.db.models.BigAutoField"
