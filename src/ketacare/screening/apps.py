from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """Eligibility screening of a patient against a protocol, signed by prescribers."""

    name = "ketacare.screening"
    label = "screening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("screening_id", "screening.Screening")

        from ketacare.patients.panels import chart_panel_register
        from ketacare.screening.panels import SCREENING_PANEL

        chart_panel_register(SCREENING_PANEL)
