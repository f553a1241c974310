from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Versioned consent documents per route and the patients' signatures on them."""

    name = "ketacare.consent"
    label = "consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("document_id", "consent.ConsentDocument")
        register_path_object("document_version_id", "consent.ConsentDocumentVersion")
        register_path_object("signature_id", "consent.ConsentSignature")

        from ketacare.consent.panels import CONSENT_PANEL
        from ketacare.patients.panels import chart_panel_register

        chart_panel_register(CONSENT_PANEL)
