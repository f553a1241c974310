from django.apps import AppConfig


class AthomeConfig(AppConfig):
    """The at-home ketamine programme: enrolment, prescriptions, supply, home doses, trackers."""

    name = "ketacare.athome"
    label = "athome"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("programme_id", "athome.HomeProgramme")
        register_path_object("prescription_id", "athome.HomePrescription")
