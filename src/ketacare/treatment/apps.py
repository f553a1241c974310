from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    """The supervised treatment session, from check-in to discharge."""

    name = "ketacare.treatment"
    label = "treatment"
    default_auto_field = "django.db.models.BigAutoField"
