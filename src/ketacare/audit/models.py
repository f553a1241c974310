"""The audit trail: append-only entries, hash-chained per clinic."""

from typing import Any

from django.db import models


class AuditAction(models.TextChoices):
    """What was done to the object."""

    READ = "read", "Read"
    LIST = "list", "List"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    EXPORT = "export", "Export"
    SIGN = "sign", "Sign"
    LOGIN = "login", "Log in"
    LOGOUT = "logout", "Log out"
    LOGIN_FAILED = "login_failed", "Failed log-in"
    DENIED = "denied", "Refused attempt"


class AuditChain(models.Model):
    """The head of one clinic's chain: last sequence number and hash, locked while appending."""

    key = models.CharField(max_length=64, unique=True, help_text="'clinic:<id>' or 'system'.")
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.key} @ {self.last_seq}"


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Refuses bulk changes: the trail only grows."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit entries are append-only and cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries are append-only and cannot be deleted.")


class AuditEntry(models.Model):
    """Who did what to which record of which patient, when and from where; never changed."""

    chain_key = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    at = models.DateTimeField(db_index=True)
    clinic_id = models.BigIntegerField(null=True, db_index=True)
    actor_id = models.BigIntegerField(null=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, db_index=True)
    client_address = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain_key", "seq"], name="audit_seq_unique_per_chain"),
        ]
        indexes = [models.Index(fields=["clinic_id", "-at"], name="audit_clinic_recent")]
        ordering = ["-at", "-seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        record = f"{self.object_type}:{self.object_id}"
        return f"#{self.seq} {self.action} {record} by {self.actor_username}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit entries are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries are append-only and cannot be deleted.")
