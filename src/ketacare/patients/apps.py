from django.apps import AppConfig


class PatientsConfig(AppConfig):
    """Patients and their chart."""

    name = "ketacare.patients"
    label = "patients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("patient_id", "patients.Patient")
        register_path_object("measurement_id", "patients.BodyMeasurement")
