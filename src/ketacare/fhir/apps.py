from django.apps import AppConfig


class FhirConfig(AppConfig):
    """The FHIR R4 server, its Bulk Data export and the patient's record download."""

    name = "ketacare.fhir"
    label = "fhir"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.permissions import Permission
        from ketacare.fhir import resources  # noqa: F401  (registers every resource type)
        from ketacare.patients.panels import ChartPanel, chart_panel_register

        chart_panel_register(
            ChartPanel(
                key="record_download",
                place="sections",
                order=90,
                template="fhir/_chart_panel.html",
                permission=Permission.RECORD_EXPORT,
                action=("Record download", "record_link"),
            )
        )
