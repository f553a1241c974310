"""What the FHIR server keeps: SMART scopes of API tokens, and Bulk Data export jobs."""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import ApiToken, Clinic


class TokenScope(models.Model):
    """The SMART-style scopes an API token carries for FHIR (`user/*.read`, ...).

    A token without a row acts with `user/*.read`: everything its user's role may read.
    """

    token = models.OneToOneField(ApiToken, on_delete=models.CASCADE, related_name="fhir_scope")
    scopes = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.token_id}: {self.scopes}"


class ExportStatus(models.TextChoices):
    """A Bulk Data export job's state."""

    ACCEPTED = "accepted", "Accepted"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ExportJob(models.Model):
    """One `$export` request of a clinic: its level, types, `_since`, files and expiry."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(max_length=10, help_text="system, patient or group")
    group_id = models.CharField(max_length=64, blank=True)
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.TextField()
    status = models.CharField(
        max_length=20, choices=ExportStatus.choices, default=ExportStatus.ACCEPTED
    )
    transaction_time = models.DateTimeField()
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "-created_at"], name="fhir_export_recent")]

    def __str__(self) -> str:
        return f"Export {self.pk} of clinic {self.clinic_id} ({self.status})"


class ExportFile(models.Model):
    """One NDJSON file of an export: one resource type, its count, size and SHA-256."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    path = models.CharField(max_length=500)
    count = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["resource_type", "id"]

    def __str__(self) -> str:
        return f"{self.resource_type}.ndjson of export {self.job_id}"


class RecordLink(models.Model):
    """A link a patient opens to download their own record (FHIR JSON and a PDF summary).

    Only the token's SHA-256 is kept; the link expires and can be revoked.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="record_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "patient"], name="record_link_patient")]

    def __str__(self) -> str:
        return f"Record link {self.pk} for patient {self.patient_id}"
