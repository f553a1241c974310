from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    """Misuse and dependence signals, safety review, relapse prevention, substance-use
    programmes and their 42 CFR Part 2 records."""

    name = "ketacare.recovery"
    label = "recovery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.permissions import Permission
        from ketacare.followup.dispatch import assignment_planner_register
        from ketacare.patients.panels import ChartPanel, chart_panel_register
        from ketacare.recovery.screens import screen_assignments_plan

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
        # The recovery screens go out with the questionnaire dispatch, on the core's schedule.
        assignment_planner_register(screen_assignments_plan)
