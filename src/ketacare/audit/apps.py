from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The append-only, hash-chained audit trail of every read and write of patient data."""

    name = "ketacare.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"
