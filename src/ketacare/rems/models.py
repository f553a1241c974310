"""SPRAVATO REMS records: the setting's certification, patients' enrolment, monitoring forms."""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.models import ChainedQuerySet, ChainedRecord
from ketacare.patients.models import Patient


class CertificationStatus(models.TextChoices):
    """The setting's standing with the REMS."""

    CERTIFIED = "certified", "Certified"
    SUSPENDED = "suspended", "Suspended"
    DECERTIFIED = "decertified", "Decertified"


class SettingCertification(models.Model):
    """The setting's REMS certification at the clinic's location; a change is a new row."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    certification_id = models.CharField("REMS certification id", max_length=64)
    location = models.CharField(max_length=200, help_text="The location's name and address.")
    authorised_representative = models.CharField(max_length=200)
    certified_on = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=CertificationStatus.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.certification_id} ({self.status})"


class PatientEnrolment(models.Model):
    """A patient's REMS enrolment, with the form signed by patient and prescriber."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="+")
    rems_patient_id = models.CharField("REMS patient id", max_length=64)
    enrolled_on = models.DateField()
    signed_by_patient = models.BooleanField()
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signed_by_patient=True), name="enrolment_signed_by_patient"
            ),
        ]

    def __str__(self) -> str:
        return f"REMS {self.rems_patient_id}"


class SubmissionMethod(models.TextChoices):
    """How a monitoring form reached the REMS."""

    PORTAL = "portal", "REMS website"
    FAX = "fax", "Fax"
    PHONE = "phone", "Phone"


class MonitoringForm(models.Model):
    """A session's Patient Monitoring Form: filled from the record, signed, submitted."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session_id = models.BigIntegerField(unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    session_day = models.DateField()
    due_on = models.DateField()
    definition_version = models.CharField(max_length=20)
    answers = models.JSONField(default=dict, blank=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content_hash = models.CharField(max_length=64, blank=True)
    submitted_on = models.DateField(null=True, blank=True)
    method = models.CharField(max_length=10, choices=SubmissionMethod.choices, blank=True)
    confirmation_number = models.CharField(max_length=64, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_recorded_at = models.DateTimeField(null=True, blank=True)
    late_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(submitted_on__isnull=True) | models.Q(signed_at__isnull=False),
                name="pmf_signed_before_submitted",
            ),
            models.CheckConstraint(
                condition=models.Q(submitted_on__isnull=True)
                | models.Q(submitted_on__lte=models.F("due_on"))
                | ~models.Q(late_reason=""),
                name="pmf_late_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "due_on"], name="pmf_clinic_due")]
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"PMF for session {self.session_id} (due {self.due_on})"


class MonitoringFormSignatureQuerySet(ChainedQuerySet):
    """Signatures of monitoring forms: append-only like every chained record."""


class MonitoringFormSignature(ChainedRecord):
    """What the monitoring clinician signed: the form's answers at that moment, never changed.

    Chained per clinic (`clinic:<id>`) with the shared keyed mechanism (as the ledger and the
    audit trail are), so `ketacare rems verify` and `ketacare audit verify` find a signature
    altered, removed or inserted, and `ketacare rems verify` a signed form edited since.
    """

    CHAIN_KIND = "rems_form"
    CHAIN_FIELDS = (
        "clinic_id", "form_id", "session_id", "patient_id", "definition_version", "answers",
        "content_hash", "signed_at", "signed_by_id",
    )  # fmt: skip

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    form = models.ForeignKey(MonitoringForm, on_delete=models.PROTECT, related_name="signatures")
    session_id = models.BigIntegerField()
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    definition_version = models.CharField(max_length=20)
    answers = models.JSONField()
    content_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = MonitoringFormSignatureQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "chain_key", "seq"], name="pmf_signature_seq_unique"
            ),
            models.UniqueConstraint(fields=["clinic", "form"], name="pmf_signed_once"),
        ]
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"signature #{self.seq} of PMF {self.form_id}"
