from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    """Misuse and dependence signals, safety review, relapse prevention, substance-use
    programmes and their 42 CFR Part 2 records."""

    name = "ketacare.recovery"
    label = "recovery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.permissions import Permission
        from ketacare.patients.panels import ChartPanel, chart_panel_register

        chart_panel_register(
            ChartPanel(
                key="recovery",
                place="sections",
                order=85,
                template="recovery/_chart_panel.html",
                permission=Permission.RECOVERY_VIEW,
                action=("Recovery", "recovery_patient"),
            )
        )
