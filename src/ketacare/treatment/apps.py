from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    """The supervised treatment session, from check-in to discharge."""

    name = "ketacare.treatment"
    label = "treatment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("session_id", "treatment.TreatmentSession")
        register_path_object("monitoring_entry_id", "treatment.MonitoringEntry")
        register_path_object("adverse_event_id", "treatment.AdverseEvent")
        register_path_object("medicine_given_id", "treatment.MedicineGiven")

        from ketacare.patients.panels import ChartPanel, chart_panel_register

        chart_panel_register(
            ChartPanel(
                key="sessions",
                place="sections",
                order=30,
                template="treatment/_patient_sessions_loader.html",
            )
        )

        from ketacare.ledger.sessions import register_session_source
        from ketacare.rems.sessions import register_form_source
        from ketacare.treatment.ledger_facts import TreatmentFormSource, TreatmentSessionSource

        register_session_source(TreatmentSessionSource())
        register_form_source(TreatmentFormSource())
