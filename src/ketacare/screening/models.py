"""Screenings: the eligibility engine's result on a patient's chart, and who signed it."""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.kernel.choices import DANGER, OK, WARN, ColouredChoices
from ketacare.patients.models import Patient


class ScreeningStatus(ColouredChoices):
    """The eligibility engine's verdict (`ketacare.clinical.eligibility`)."""

    ELIGIBLE = "eligible", "Eligible"
    NEEDS_REVIEW = "needs review", "Needs review"
    INELIGIBLE = "ineligible", "Ineligible"

    @classmethod
    def badge_colours(cls) -> dict[str, str]:
        """Badge colours of the statuses that are not plain."""
        return {
            cls.ELIGIBLE: OK,
            cls.NEEDS_REVIEW: WARN,
            cls.INELIGIBLE: DANGER,
        }


class Screening(models.Model):
    """One run of the eligibility rules on a patient's facts, for a protocol, and its signatures.

    `facts` is the snapshot the rules saw and `facts_used` the names of the facts any fired or
    missing rule relied on; when a used fact differs in the chart the screening is out of date.
    An ineligible screening goes forward only with a prescriber's reason and a second
    prescriber's co-signature.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    protocol_id = models.CharField(max_length=64)
    protocol_version = models.CharField(max_length=32, blank=True)
    route = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=ScreeningStatus.choices)
    result = models.JSONField(
        default=dict, help_text="Fired rules and missing facts, as the engine returned them."
    )
    facts = models.JSONField(default=dict)
    facts_used = models.JSONField(default=list)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    run_at = models.DateTimeField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    sign_reason = models.TextField(
        blank=True, help_text="Required to go forward when ineligible or needing review."
    )
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosign_note = models.TextField(blank=True, help_text="The co-signing prescriber's comment.")
    superseded_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "patient", "-run_at"], name="screening_patient_recent")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cosigned_by__isnull=True)
                | ~models.Q(cosigned_by=models.F("signed_by")),
                name="screening_cosigner_differs_from_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"Screening {self.pk} of patient {self.patient_id}: {self.status}"
