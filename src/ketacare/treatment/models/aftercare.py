"""What follows the dose: adverse events, medicines given, discharge, submissions, alarm policy."""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.corrections import EnteredInError, entered_in_error_constraint
from ketacare.clinical.given import DOSE_UNITS, ROUTES
from ketacare.treatment.models.session import (
    TreatmentSession,
)


class AdverseEventKind(models.TextChoices):
    """What happened."""

    HYPERTENSION = "hypertension", "Raised blood pressure"
    TACHYCARDIA = "tachycardia", "Tachycardia"
    DESATURATION = "desaturation", "Low oxygen saturation"
    OVERSEDATION = "oversedation", "Excessive sedation"
    NAUSEA_VOMITING = "nausea_vomiting", "Nausea or vomiting"
    ANXIETY_AGITATION = "anxiety_agitation", "Anxiety or agitation"
    DISSOCIATION = "dissociation", "Distressing dissociation"
    DIZZINESS = "dizziness", "Dizziness"
    HEADACHE = "headache", "Headache"
    ALLERGIC = "allergic", "Allergic reaction"
    OTHER = "other", "Other"


class AdverseEventSeverity(models.TextChoices):
    """How severe."""

    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    LIFE_THREATENING = "life_threatening", "Life-threatening"


class AdverseEventOutcome(models.TextChoices):
    """How it ended (so far)."""

    RESOLVED = "resolved", "Resolved"
    RESOLVING = "resolving", "Resolving"
    ONGOING = "ongoing", "Ongoing"
    TRANSFERRED = "transferred", "Transferred for further care"


# An adverse event followed to one of these has reached its outcome.
FINAL_ADVERSE_EVENT_OUTCOMES = frozenset(
    {AdverseEventOutcome.RESOLVED.value, AdverseEventOutcome.TRANSFERRED.value}
)


class AdverseEvent(EnteredInError):
    """An adverse event in a session: type, severity, time, intervention and outcome.

    `outcome` is the outcome as first recorded; follow-ups (`AdverseEventFollowUp`) carry it on
    until the event is resolved or the patient is transferred.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="adverse_events"
    )
    kind = models.CharField(max_length=30, choices=AdverseEventKind.choices)
    severity = models.CharField(max_length=20, choices=AdverseEventSeverity.choices)
    onset_at = models.DateTimeField()
    description = models.TextField(blank=True)
    intervention = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=AdverseEventOutcome.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["onset_at", "id"]
        constraints = [entered_in_error_constraint("adverse_event")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.severity}) in session {self.session_id}"

    @property
    def outcome_now(self) -> str:
        """The outcome as last followed up (the first outcome if never followed up)."""
        follow_ups = list(self.follow_ups.all())
        return follow_ups[-1].outcome if follow_ups else self.outcome

    @property
    def followed_to_outcome(self) -> bool:
        """Resolved or transferred: nothing more is expected of the clinic."""
        return self.outcome_now in FINAL_ADVERSE_EVENT_OUTCOMES


class AdverseEventFollowUp(models.Model):
    """A later look at an adverse event: its outcome now, what was seen or done. Never changed."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="follow_ups"
    )
    outcome = models.CharField(max_length=20, choices=AdverseEventOutcome.choices)
    note = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(note=""), name="ae_follow_up_has_a_note")
        ]

    def __str__(self) -> str:
        return f"follow-up of {self.adverse_event_id}: {self.outcome}"


# The core's lists (ketacare.clinical.given), so the form, the model and the check agree.
MEDICINE_GIVEN_UNITS = [(unit, unit) for unit in DOSE_UNITS]
MEDICINE_GIVEN_ROUTES = list(ROUTES.items())


class MedicineGiven(EnteredInError):
    """Another medicine given during a session (ondansetron, midazolam, labetalol...).

    The name is read through the medicine vocabulary: `ingredients` holds what it resolved to;
    a name it does not hold is kept as typed with `needs_review` set, for staff to check.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="medicines_given"
    )
    medicine = models.CharField(max_length=200, help_text="The name as entered.")
    ingredients = models.JSONField(default=list, blank=True)
    needs_review = models.BooleanField(default=False)
    dose = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=10, choices=MEDICINE_GIVEN_UNITS)
    route = models.CharField(max_length=10, choices=MEDICINE_GIVEN_ROUTES)
    given_at = models.DateTimeField()
    indication = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["given_at", "id"]
        verbose_name_plural = "medicines given"
        constraints = [
            entered_in_error_constraint("medicine_given"),
            models.CheckConstraint(condition=models.Q(dose__gt=0), name="medicine_given_dose"),
        ]

    def __str__(self) -> str:
        return f"{self.medicine} {self.dose} {self.unit} {self.route} in session {self.session_id}"


class Discharge(models.Model):
    """The patient left: criteria, escort, the core's check, and any prescriber's override."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.OneToOneField(
        TreatmentSession, on_delete=models.PROTECT, related_name="discharge"
    )
    criteria = models.JSONField(help_text="Each discharge criterion of the protocol: met or not.")
    discharge_check = models.JSONField(help_text="The core's discharge check at the time.")
    escort_name = models.CharField(max_length=200, blank=True)
    ready_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the patient was clinically ready (REMS asks for it, esketamine).",
    )
    observed_minutes = models.PositiveIntegerField(
        help_text="Minutes from the end of dosing to discharge."
    )
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    discharged_at = models.DateTimeField()
    override_reason = models.TextField(blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(override_by__isnull=True) & models.Q(override_reason=""))
                | (models.Q(override_by__isnull=False) & ~models.Q(override_reason="")),
                name="discharge_override_has_prescriber_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Discharge of session {self.session_id} at {self.discharged_at:%H:%M}"


class SessionSubmission(models.Model):
    """An idempotency key: a retried submission returns the first result, not a second one."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    idempotency_key = models.CharField(max_length=64)
    step = models.CharField(max_length=40)
    session = models.ForeignKey(
        TreatmentSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
    )
    result_id = models.BigIntegerField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"], name="submission_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step} {self.idempotency_key}"


class AlarmPolicy(models.Model):
    """A clinic's alarm thresholds, tighter than the core's policy defaults; append-only.

    Each change is a new row (who, when, why, the full set of changes from the defaults); the
    latest row is in force. The core refuses any change that would loosen an alarm.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="alarm_policies")
    thresholds = models.JSONField(
        default=dict, help_text="Threshold name to value, only where tighter than the default."
    )
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["clinic", "changed_at"], name="alarm_policy_clinic_time")]

    def __str__(self) -> str:
        return f"Alarm policy of clinic {self.clinic_id} from {self.changed_at:%Y-%m-%d %H:%M}"
