"""Scored rating-scale responses; the rest of measurement-based care builds on them."""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.patients.models import Patient


class ResponseSource(models.TextChoices):
    """Who entered the answers."""

    PORTAL = "portal", "Patient (portal)"
    SESSION = "session", "Pre-dose check in a session"
    STAFF = "staff", "Entered by staff"


class ScaleResponse(models.Model):
    """One completed instrument for a patient, scored by `ketacare.clinical.instruments.score`.

    The score is stored as computed at the time, with the answers, so it can be re-derived and
    checked; it is never edited (a correction is a new response).
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scale_responses")
    instrument_id = models.CharField(max_length=32)
    answers = models.JSONField()
    total = models.IntegerField()
    band = models.CharField(max_length=40)
    alerts = models.JSONField(default=list)
    source = models.CharField(max_length=20, choices=ResponseSource.choices)
    recorded_at = models.DateTimeField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["clinic", "patient", "instrument_id", "recorded_at"],
                name="scale_patient_series",
            ),
        ]
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.total} ({self.band}) for patient {self.patient_id}"
