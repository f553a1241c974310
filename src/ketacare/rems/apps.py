from django.apps import AppConfig


class RemsConfig(AppConfig):
    """SPRAVATO REMS operations: setting certification, patient enrolment, monitoring forms."""

    name = "ketacare.rems"
    label = "rems"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("form_id", "rems.MonitoringForm")
