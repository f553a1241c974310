"""Supervised treatment sessions: check-in, pre-dose checks, dose, monitoring and discharge.

Every step is a row with its time and the person who did it. Numbers the clinical core computed
(the dose plan with its steps, alarms, the discharge check) are stored as the core returned them,
beside the values, so the page can show the working and an auditor can re-derive it.
"""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.corrections import EnteredInError, entered_in_error_constraint
from ketacare.clinical.given import DOSE_UNITS, ROUTES
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


class DoseOrderStatus(ColouredChoices):
    """An order is verified by a second clinician, or rejected (and a new one written)."""

    ORDERED = "ordered", "Awaiting verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"

    @classmethod
    def badge_colours(cls) -> dict[str, str]:
        """Badge colours of the statuses that are not plain."""
        return {
            cls.VERIFIED: OK,
            cls.ORDERED: WARN,
            cls.REJECTED: DANGER,
        }


class DoseOrder(models.Model):
    """The prescriber's order of the dose the core computed, and its independent verification."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="dose_orders"
    )
    pre_check = models.ForeignKey(PreDoseCheck, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=DoseOrderStatus.choices, default=DoseOrderStatus.ORDERED
    )
    route = models.CharField(max_length=20)
    inputs = models.JSONField(help_text="What the core was given.")
    plan = models.JSONField(help_text="The core's dose plan with every intermediate step.")
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    mg_per_kg = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    dosing_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_basis = models.CharField(max_length=40, blank=True)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True
    )
    container_volume_ml = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    duration_min = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    rate_ml_per_h = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    devices = models.PositiveSmallIntegerField(null=True, blank=True)
    rest_between_devices_min = models.PositiveSmallIntegerField(null=True, blank=True)
    warnings = models.JSONField(default=list)
    override_reason = models.TextField(blank=True)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            # The second check is worth nothing if the orderer can do it.
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True)
                | ~models.Q(verified_by=models.F("ordered_by")),
                name="dose_verifier_differs_from_orderer",
            ),
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True) | models.Q(verified_at__isnull=False),
                name="dose_verification_is_dated",
            ),
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(status__in=["ordered", "verified"]),
                name="one_live_dose_order_per_session",
            ),
        ]
        ordering = ["ordered_at", "id"]

    def __str__(self) -> str:
        return f"{self.dose_mg} mg {self.route} ({self.status}) in session {self.session_id}"


class AdministrationState(models.TextChoices):
    """Where the dosing stands."""

    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped early"
    COMPLETED = "completed", "Completed"


class Administration(models.Model):
    """The dose as given: product, lot, concentration, volume, rate, times, and who gave it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.OneToOneField(
        TreatmentSession, on_delete=models.PROTECT, related_name="administration"
    )
    dose_order = models.OneToOneField(
        DoseOrder, on_delete=models.PROTECT, related_name="administration"
    )
    product = models.CharField(max_length=200)
    lot = models.CharField(max_length=64)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True
    )
    volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    rate_ml_per_h = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    current_rate_ml_per_h = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True
    )
    state = models.CharField(
        max_length=20, choices=AdministrationState.choices, default=AdministrationState.RUNNING
    )
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    volume_infused_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stopped_at__isnull=True)
                | models.Q(stopped_at__gte=models.F("started_at")),
                name="administration_stops_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} lot {self.lot} in session {self.session_id}"


class EsketamineDevice(models.Model):
    """One esketamine nasal device used under supervision, at its time."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="devices"
    )
    number = models.PositiveSmallIntegerField()
    administered_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "number"], name="device_number_unique"
            ),
        ]
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Device {self.number} at {self.administered_at:%H:%M}"


class InfusionChangeKind(models.TextChoices):
    """A change to running dosing; each needs a reason."""

    PAUSE = "pause", "Pause"
    RESUME = "resume", "Resume"
    SLOW = "slow", "Slow"
    STOP = "stop", "Stop"


class InfusionChange(models.Model):
    """A pause, resume, slowing or early stop of the dosing, with its reason."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(max_length=10, choices=InfusionChangeKind.choices)
    at = models.DateTimeField()
    rate_ml_per_h = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    reason = models.TextField()
    monitoring_entry = models.ForeignKey(
        MonitoringEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="infusion_change_reason"),
        ]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%H:%M}"


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
    key = models.CharField(max_length=64)
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
            models.UniqueConstraint(fields=["clinic", "key"], name="submission_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.step} {self.key}"


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
