from django.apps import AppConfig


class FhirConfig(AppConfig):
    """The FHIR R4 server, its Bulk Data export and the patient's record download."""

    name = "ketacare.fhir"
    label = "fhir"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.fhir import resources  # noqa: F401  (registers every resource type)
