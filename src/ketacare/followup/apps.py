from django.apps import AppConfig


class FollowupConfig(AppConfig):
    """Follow-up between sessions: questionnaire policy and dispatch, the patient portal and
    journal, trajectories, worklists and the outcomes dashboard, integration notes.

    It has no models of its own: it reads and writes the outcomes app's records, and sits above
    treatment and scheduling, whose sessions it plans questionnaires around.
    """

    name = "ketacare.followup"
    label = "followup"

    def ready(self) -> None:
        from ketacare.patients.panels import ChartPanel, chart_panel_register

        chart_panel_register(
            ChartPanel(
                key="outcomes", place="sections", order=20, template="followup/_chart_section.html"
            )
        )
