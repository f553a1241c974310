"""Consent documents, their immutable versions, and patients' signatures."""

from typing import Any

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.corrections import EnteredInError, entered_in_error_constraint
from ketacare.consent.signers import RepresentativeRelationship
from ketacare.kernel import clock
from ketacare.patients.models import Patient


class ConsentRoute(models.TextChoices):
    """Routes with their own consent; values match the protocols' `route`."""

    IV = "iv", "IV infusion"
    IM = "im", "Intramuscular injection"
    ESKETAMINE = "esketamine", "Esketamine nasal spray"
    SUBLINGUAL = "sublingual", "At-home sublingual"
    HOME_PROGRAMME = "home_programme", "At-home programme agreement"


class ConsentDocument(models.Model):
    """A clinic's consent document for one route; its text lives in versions."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    route = models.CharField(max_length=20, choices=ConsentRoute.choices)
    title = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "route"], name="one_consent_document_per_route"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ConsentDocumentVersion(models.Model):
    """One published text of a consent document. Never edited: a change is a new version."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    body_sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True, help_text="The title as published.")
    change_note = models.TextField(blank=True, help_text="What changed from the last version.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="consent_version_number_unique"
            )
        ]
        ordering = ["document", "-number"]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An integrity rule, not business logic: what a patient signed must never change.
        if self.pk is not None:
            raise ValueError("A published consent text is never edited; publish a new version.")
        super().save(*args, **kwargs)


class ConsentSignature(EnteredInError):
    """A patient's (or representative's) signature on one version: typed name, time, witness."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    document_version = models.ForeignKey(
        ConsentDocumentVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    signed_name = models.CharField(max_length=200)
    # Empty when the patient signed; otherwise the representative who signed, and how related.
    representative_name = models.CharField(max_length=200, blank=True)
    representative_relationship = models.CharField(
        max_length=30, choices=RepresentativeRelationship.choices, blank=True
    )
    signed_at = models.DateTimeField()
    body_sha256 = models.CharField(max_length=64, help_text="Hash of the text as signed.")
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=clock.now)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="The client's key, so a retried submission records once.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "patient", "-signed_at"], name="consent_patient_recent")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="consent_signature_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | ~models.Q(withdrawn_reason=""),
                name="consent_withdrawal_has_reason",
            ),
            # A resubmitted form must not leave two live signatures on the same text.
            models.UniqueConstraint(
                fields=["patient", "document_version"],
                condition=models.Q(withdrawn_at__isnull=True, entered_in_error_at__isnull=True),
                name="consent_one_active_signature_per_version",
            ),
            models.CheckConstraint(
                condition=models.Q(representative_name="", representative_relationship="")
                | (~models.Q(representative_name="") & ~models.Q(representative_relationship="")),
                name="consent_representative_named_with_relationship",
            ),
            entered_in_error_constraint("consent_signature"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.signed_name} signed {self.document_version} at {self.signed_at:%Y-%m-%d %H:%M}"
        )
