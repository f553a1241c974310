"""A session and what precedes the dose: check-in, readings, pre-dose checks, start decisions."""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.corrections import EnteredInError, entered_in_error_constraint
from ketacare.kernel.choices import DANGER, OK, WARN, ColouredChoices
from ketacare.outcomes.models import ScaleResponse
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Appointment, Course


class SessionStatus(ColouredChoices):
    """Where a session stands; `ketacare.treatment.states` holds the allowed transitions."""

    CHECKED_IN = "checked_in", "Checked in"
    PRE_CHECKED = "pre_checked", "Pre-dose checks recorded"
    ORDERED = "ordered", "Dose ordered"
    VERIFIED = "verified", "Dose verified"
    DOSING = "dosing", "Dosing"
    OBSERVATION = "observation", "Observation"
    DISCHARGED = "discharged", "Discharged"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def badge_colours(cls) -> dict[str, str]:
        """Badge colours of the statuses that are not plain."""
        return {
            cls.DOSING: WARN,
            cls.DISCHARGED: OK,
            cls.CANCELLED: DANGER,
        }


# A session in one of these is still in its chair (or waiting for it): neither discharged nor
# cancelled. It stays on the day's lists past the clinic's midnight until someone closes it.
LIVE_SESSION_STATUSES = (
    SessionStatus.CHECKED_IN,
    SessionStatus.PRE_CHECKED,
    SessionStatus.ORDERED,
    SessionStatus.VERIFIED,
    SessionStatus.DOSING,
    SessionStatus.OBSERVATION,
)


class TreatmentSession(models.Model):
    """One supervised treatment of a patient, from check-in to discharge, under one protocol."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="treatment_session",
    )
    protocol_id = models.CharField(max_length=64)
    protocol_version = models.CharField(max_length=32)
    route = models.CharField(max_length=20)
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.CHECKED_IN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    checked_in_at = models.DateTimeField()
    dosing_started_at = models.DateTimeField(null=True, blank=True)
    dosing_ended_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    # Optimistic concurrency: every write bumps it; decisions name the version they were made on.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "checked_in_at"], name="session_clinic_day"),
            models.Index(fields=["clinic", "patient", "-checked_in_at"], name="session_patient"),
        ]
        ordering = ["-checked_in_at", "-id"]

    def __str__(self) -> str:
        return f"Session {self.pk} of patient {self.patient_id} ({self.status})"


class MonitoringPhase(models.TextChoices):
    """When a reading was taken relative to dosing."""

    PRE_DOSE = "pre_dose", "Before dosing"
    DOSING = "dosing", "During dosing"
    OBSERVATION = "observation", "Observation"


class Dissociation(models.TextChoices):
    """The nurse's observation of dissociation (no licensed scale is reproduced)."""

    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class MonitoringAction(models.TextChoices):
    """What was done about an out-of-limit reading."""

    RECHECKED = "rechecked", "Rechecked"
    PRESCRIBER_CALLED = "prescriber_called", "Called the prescriber"
    PAUSED = "paused", "Paused dosing"
    SLOWED = "slowed", "Slowed the infusion"
    STOPPED = "stopped", "Stopped dosing"
    OTHER = "other", "Other (see note)"


class MonitoringEntry(EnteredInError):
    """One set of observations on the session's timeline, with the alarms the core raised.

    A reading entered in error stays on the timeline, struck through with its reason, and no
    longer counts for alarms, readings due or discharge.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="entries")
    phase = models.CharField(max_length=20, choices=MonitoringPhase.choices)
    taken_at = models.DateTimeField()
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO2", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(
        "respiratory rate", null=True, blank=True, help_text="Breaths per minute."
    )
    moaas = models.PositiveSmallIntegerField("MOAA/S", null=True, blank=True)
    dissociation = models.CharField(max_length=20, choices=Dissociation.choices, blank=True)
    respiratory_depression = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    alarms = models.JSONField(
        default=list, help_text="The core's alarms for this reading: code, message, action."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    action = models.CharField(max_length=30, choices=MonitoringAction.choices, blank=True)
    action_note = models.TextField(blank=True)
    action_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["session", "taken_at"], name="entry_session_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(spo2__isnull=True) | models.Q(spo2__lte=100),
                name="entry_spo2_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=models.Q(moaas__isnull=True) | models.Q(moaas__lte=5),
                name="entry_moaas_0_to_5",
            ),
            entered_in_error_constraint("monitoring_entry"),
        ]
        ordering = ["taken_at", "id"]

    def __str__(self) -> str:
        return f"Reading at {self.taken_at:%H:%M} in session {self.session_id}"


class PregnancyTest(models.TextChoices):
    """Today's pregnancy test, where the clinic requires one."""

    NOT_REQUIRED = "not_required", "Not required"
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"


class PreDoseCheck(models.Model):
    """The checks before dosing: today's weight, the checklist and today's scales.

    The vital signs are the timeline's first reading (`vitals`); a recheck is a later reading.
    A correction is a new check; the latest one counts and the earlier ones stay as history.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="pre_checks"
    )
    vitals = models.OneToOneField(MonitoringEntry, on_delete=models.PROTECT, related_name="+")
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    weight_entered = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, help_text="The number as typed, in its unit."
    )
    weight_unit = models.CharField(max_length=2, default="kg", help_text="kg or lb, as typed.")
    weight_challenges = models.JSONField(
        default=list,
        help_text="The core's challenges to the weight (change, BMI), confirmed by re-weighing.",
    )
    height_cm = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True, help_text="From the chart."
    )
    fasting_confirmed = models.BooleanField()
    escort_confirmed = models.BooleanField()
    escort_name = models.CharField(max_length=200, blank=True)
    pregnancy_test = models.CharField(max_length=20, choices=PregnancyTest.choices)
    pregnancy_test_required = models.BooleanField(
        default=True, help_text="Whether the core asked for a test (sex and age) at the time."
    )
    medication_changes = models.BooleanField()
    medication_changes_note = models.TextField(blank=True)
    phq9 = models.ForeignKey(ScaleResponse, on_delete=models.PROTECT, related_name="+")
    cssrs = models.ForeignKey(ScaleResponse, on_delete=models.PROTECT, related_name="+")
    concerns = models.JSONField(
        default=list,
        help_text="Checklist and scale findings at the time: code, message, blocking.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"Pre-dose check {self.pk} of session {self.session_id}"


class StartDecisionChoices(models.TextChoices):
    """A prescriber's decision on the findings that hold the start."""

    PROCEED = "proceed", "Proceed with dosing"
    DO_NOT_START = "do_not_start", "Do not dose today"


class StartDecision(models.Model):
    """A prescriber's decision, with a reason, on the concerns of one check and one reading."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="start_decisions"
    )
    pre_check = models.ForeignKey(PreDoseCheck, on_delete=models.PROTECT, related_name="+")
    reading = models.ForeignKey(MonitoringEntry, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=StartDecisionChoices.choices)
    reason = models.TextField()
    concerns = models.JSONField(default=list)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="start_decision_has_reason"
            ),
        ]
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} in session {self.session_id}"
