from django.apps import AppConfig


class RemsConfig(AppConfig):
    """SPRAVATO REMS operations: setting certification, patient enrolment, monitoring forms."""

    name = "ketacare.rems"
    label = "rems"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("form_id", "rems.MonitoringForm")

        from ketacare.accounts.permissions import Permission
        from ketacare.patients.panels import ChartPanel, chart_panel_register

        chart_panel_register(
            ChartPanel(
                key="rems",
                place="summary",
                order=90,
                template="rems/_chart_panel.html",
                permission=Permission.REMS_ENROL,
                action=("REMS enrolment", "rems_enrol"),
            )
        )
