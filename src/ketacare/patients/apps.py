from django.apps import AppConfig


class PatientsConfig(AppConfig):
    """Patients and their chart."""

    name = "ketacare.patients"
    label = "patients"
    default_auto_field = "django.db.models.BigAutoField"
