from django.apps import AppConfig


class PatientsConfig(AppConfig):
    """Patients and their chart."""

    name = "ketacare.patients"
    label = "patients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object
        from ketacare.audit.lookup import PatientLookup, register_patient_lookup
        from ketacare.patients.selectors import (
            patients_for_audit_labels,
            patients_for_audit_search,
        )

        register_patient_lookup(
            PatientLookup(search=patients_for_audit_search, labels=patients_for_audit_labels)
        )

        register_path_object("patient_id", "patients.Patient")
        register_path_object("measurement_id", "patients.BodyMeasurement")
        register_path_object("intake_submission_id", "patients.IntakeSubmission")
