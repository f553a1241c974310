"""The audit trail, and the chained-record base every append-only record shares."""

from typing import Any, ClassVar

from django.db import models

from ketacare.audit.chain import GENESIS_HASH, canonical_value


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
    LOCKED_OUT = "locked_out", "Locked out"
    MFA = "mfa", "Second factor"
    DENIED = "denied", "Refused attempt"


class ChainHead(models.Model):
    """The head of one append-only chain (one record kind, one clinic), locked while appending."""

    kind = models.CharField(max_length=40, default="audit", help_text="The chained model's kind.")
    key = models.CharField(max_length=64, help_text="'clinic:<id>' or 'system'.")
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="chain_head_unique_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.key} @ {self.last_seq}"


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a chained record."""


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Refuses bulk updates and deletes: an append-only record is corrected by a new row."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("These records are append-only; add a new row instead.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("These records are append-only and cannot be deleted.")


class AppendOnlyModel(models.Model):
    """Base of a record written once and never changed or deleted, without a chain of its own
    (a check-in, a status change, a decision): a correction is a new row pointing at the old."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # an integrity rule, not business logic: a row once written is never rewritten
        if not self._state.adding and not kwargs.get("force_insert"):
            raise AppendOnlyError(f"{type(self).__name__} rows are written once.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} rows are never deleted.")


class ChainedQuerySet(models.QuerySet[Any]):
    """Refuses bulk changes: a chained record only grows."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("These records are append-only and cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("These records are append-only and cannot be deleted.")


class ChainedRecord(models.Model):
    """Base of every append-only, HMAC-chained record: subclasses name their kind and fields.

    Append with `ketacare.audit.chained.chain_append`; `ketacare audit verify` checks every
    subclass. `CHAIN_FIELDS` are attribute names (`patient_id`, not `patient`) whose values
    are covered by the link; a correction is a new record pointing at the old one.
    """

    CHAIN_KIND: ClassVar[str]
    CHAIN_FIELDS: ClassVar[tuple[str, ...]]

    chain_key = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("These records are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("These records are append-only and cannot be deleted.")

    def chain_body(self) -> dict[str, Any]:
        """The values the link covers, in a database-independent form."""
        body: dict[str, Any] = {"kind": self.CHAIN_KIND, "chain_key": self.chain_key}
        body["seq"] = self.seq
        fields = {field.attname: field for field in self._meta.concrete_fields}
        for name in self.CHAIN_FIELDS:
            value = getattr(self, name)
            field = fields[name]
            if isinstance(field, models.DecimalField) and value is not None:
                value = value.quantize(type(value)(10) ** -(field.decimal_places or 0))
            body[name] = canonical_value(value)
        return body


class AuditEntryQuerySet(ChainedQuerySet):
    """Audit entries: append-only like every chained record."""


class AuditEntry(ChainedRecord):
    """Who did what to which record of which patient, when and from where; never changed."""

    CHAIN_KIND = "audit"
    CHAIN_FIELDS = (
        "at",
        "clinic_id",
        "actor_id",
        "actor_username",
        "actor_role",
        "channel",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "client_address",
        "detail",
    )

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
