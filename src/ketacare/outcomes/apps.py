from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """Measurement-based care: questionnaires, portal, safety alerts and trajectories."""

    name = "ketacare.outcomes"
    label = "outcomes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("alert_id", "outcomes.SafetyAlert")
        register_path_object("note_id", "outcomes.IntegrationNote")
        register_path_object("response_id", "outcomes.ScaleResponse")
