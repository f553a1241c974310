"""Measurement-based care: scored responses, questionnaire schedules and assignments, the
patient portal's links, safety alerts, integration notes and the patient's journal."""

from typing import Any

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.corrections import EnteredInError, entered_in_error_constraint
from ketacare.patients.models import Patient


class ResponseSource(models.TextChoices):
    """Who entered the answers."""

    PORTAL = "portal", "Patient (portal)"
    SESSION = "session", "Pre-dose check in a session"
    STAFF = "staff", "Entered by staff"


class ScaleResponse(EnteredInError):
    """One completed instrument for a patient, scored by `ketacare.clinical.instruments.score`.

    The score is stored as computed at the time, with the answers, so it can be re-derived and
    checked; it is never edited (a correction is a new response). A response entered in error
    (the wrong patient's answers) is kept with its reason and leaves every trajectory and rule.
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
    # A retried staff submission (double click, network retry) names the same key and is
    # answered with the first response instead of recording it twice.
    idempotency_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["clinic", "patient", "instrument_id", "recorded_at"],
                name="scale_patient_series",
            ),
        ]
        constraints = [
            entered_in_error_constraint("scale_response"),
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="scale_response_idempotent",
            ),
        ]
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.total} ({self.band}) for patient {self.patient_id}"


# --- schedules ----------------------------------------------------------------------------------


class QuestionnairePolicy(models.Model):
    """Which instruments go out when: the clinic's default (blank protocol) or one protocol's.

    Clinic policy, not clinical fact: the defaults (`ketacare.followup.policy.DEFAULT_POLICY`)
    are product configuration that each clinic may change.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    protocol_id = models.CharField(
        max_length=64, blank=True, default="", help_text="Blank: the clinic's default."
    )
    before_session_instruments = models.JSONField(default=list)
    before_session_lead_hours = models.PositiveSmallIntegerField()
    during_course_instruments = models.JSONField(default=list)
    during_course_every_days = models.PositiveSmallIntegerField()
    after_course_instruments = models.JSONField(default=list)
    after_course_weekly_count = models.PositiveSmallIntegerField()
    after_course_monthly_count = models.PositiveSmallIntegerField()
    window_days = models.PositiveSmallIntegerField()
    reminder_after_hours = models.PositiveSmallIntegerField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "protocol_id"], name="questionnaire_policy_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(during_course_every_days__gte=1)
                & models.Q(window_days__gte=1)
                & models.Q(before_session_lead_hours__gte=1),
                name="questionnaire_policy_positive",
            ),
        ]
        verbose_name_plural = "questionnaire policies"

    def __str__(self) -> str:
        return f"Questionnaire policy of clinic {self.clinic_id} ({self.protocol_id or 'default'})"


class AssignmentTrigger(models.TextChoices):
    """Why a questionnaire was assigned."""

    BEFORE_SESSION = "before_session", "Before a session"
    DURING_COURSE = "during_course", "Weekly during a course"
    AFTER_COURSE = "after_course", "Follow-up after a course"
    MANUAL = "manual", "Sent by staff"
    SCREEN = "screen", "Recovery screen on its schedule"


class AssignmentStatus(models.TextChoices):
    """A questionnaire is pending until answered or cancelled; overdue is pending past due."""

    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class QuestionnaireAssignment(models.Model):
    """One instrument a patient is asked to answer in one slot (a session, a week, a month).

    The slot key is unique per patient and instrument, so planning the same slot twice (two
    workers, a retried task) creates one assignment. Answers are kept item by item in
    `draft_answers` until the patient sends them.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="questionnaire_assignments"
    )
    instrument_id = models.CharField(max_length=32)
    trigger = models.CharField(max_length=20, choices=AssignmentTrigger.choices)
    slot = models.CharField(max_length=80, help_text="e.g. appointment:12, course:3:week:2")
    course = models.ForeignKey(
        "scheduling.Course", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    opens_at = models.DateTimeField()
    due_by = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    draft_answers = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    response = models.ForeignKey(
        ScaleResponse, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    cancelled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "patient", "instrument_id", "slot"],
                name="assignment_once_per_slot",
            ),
            models.CheckConstraint(
                condition=models.Q(due_by__gt=models.F("opens_at")),
                name="assignment_due_after_open",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "status", "due_by"], name="assignment_clinic_due"),
            models.Index(fields=["patient", "status"], name="assignment_patient_status"),
        ]
        ordering = ["opens_at", "id"]

    def __str__(self) -> str:
        return f"{self.instrument_id} for patient {self.patient_id} ({self.slot})"


class DeliveryKind(models.TextChoices):
    """An invitation, or the one reminder after it."""

    INVITE = "invite", "Invitation"
    REMINDER = "reminder", "Reminder"


class QuestionnaireDelivery(models.Model):
    """That an assignment's invitation or reminder went out: at most one of each, ever.

    The unique constraint is the claim: of two workers sending in parallel, one inserts the
    row and sends; the other's insert fails and it sends nothing.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    assignment = models.ForeignKey(
        QuestionnaireAssignment, on_delete=models.PROTECT, related_name="deliveries"
    )
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    sent_at = models.DateTimeField()
    channel = models.CharField(max_length=10, default="email")
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "kind"], name="delivery_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for assignment {self.assignment_id} at {self.sent_at:%Y-%m-%d %H:%M}"


# --- the patient portal ---------------------------------------------------------------------


class PortalLinkPurpose(models.TextChoices):
    """What a portal link opens."""

    QUESTIONNAIRES = "questionnaires", "Questionnaires"
    JOURNAL = "journal", "Journal"
    INTAKE = "intake", "Intake forms"
    HOME_DOSES = "home_doses", "At-home doses"
    SITTER = "sitter", "At-home sitter"


class PortalLink(models.Model):
    """A link a patient opens without an account: a random token, stored only as its SHA-256.

    It opens only its own patient's questionnaires (those named in `assignments`) or journal,
    until it expires, is revoked, or (questionnaires) all of them are answered.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="portal_links")
    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=20, choices=PortalLinkPurpose.choices)
    channel = models.CharField(max_length=10, help_text="email or qr")
    assignments = models.ManyToManyField(QuestionnaireAssignment, related_name="links")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "patient"], name="portal_link_patient")]

    def __str__(self) -> str:
        return f"{self.purpose} link {self.pk} for patient {self.patient_id}"


class PortalRateCount(models.Model):
    """Requests seen in one time window for one key (a token hash or a client address).

    In the database, not the cache: the default cache is per process, and a limit must hold
    across every web process.
    """

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_count_window"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.window_start:%H:%M}: {self.count}"


class JournalEntry(models.Model):
    """Something a patient wrote in the portal between sessions, for their therapist."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="journal_entries")
    body = models.TextField()
    written_at = models.DateTimeField()
    link = models.ForeignKey(PortalLink, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["clinic", "patient", "-written_at"], name="journal_recent")]
        ordering = ["-written_at", "-id"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"Journal entry {self.pk} of patient {self.patient_id}"


# --- safety alerts ----------------------------------------------------------------------------


class AlertStatus(models.TextChoices):
    """open → acknowledged → resolved; nothing else, and never deleted."""

    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class AlertSeverity(models.TextChoices):
    """How fast someone must act, from the meaning the core gives each alert code."""

    IMMEDIATE = "immediate", "Immediate"
    SAME_DAY = "same_day", "Same day"
    REVIEW = "review", "Review"


class NeverDeleted(RuntimeError):
    """Raised when code tries to delete a safety alert."""


class SafetyAlertQuerySet(models.QuerySet["SafetyAlert"]):
    """Refuses deletion: a safety alert is resolved with a note, never removed."""

    def delete(self) -> tuple[int, dict[str, int]]:
        raise NeverDeleted("Safety alerts are never deleted; resolve them with a note.")


class SafetyAlert(models.Model):
    """A safety alert raised by a scored response or a named event (a home dose's gate or
    tracker): open until acknowledged, then resolved."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="safety_alerts")
    code = models.CharField(max_length=40, help_text="The core's alert code.")
    severity = models.CharField(max_length=20, choices=AlertSeverity.choices)
    meaning = models.TextField(help_text="What the core says the alert means.")
    # A scored response raised it, or (response empty) an event elsewhere named by `source_key`
    # (e.g. a home dose's blocked gate), once per source and code.
    response = models.ForeignKey(
        ScaleResponse, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    source_key = models.CharField(max_length=80, blank=True, default="")
    source_label = models.CharField(max_length=200, blank=True, default="")
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    raised_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    staff_notified_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = SafetyAlertQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "code"], name="alert_once_per_response"),
            models.UniqueConstraint(
                fields=["clinic", "source_key", "code"],
                condition=~models.Q(source_key=""),
                name="alert_once_per_source",
            ),
            models.CheckConstraint(
                condition=models.Q(response__isnull=False) | ~models.Q(source_key=""),
                name="alert_has_a_source",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open")
                | models.Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="alert_acknowledged_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="resolved")
                | (models.Q(resolved_at__isnull=False) & ~models.Q(resolution_note="")),
                name="alert_resolved_has_note",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "status", "-raised_at"], name="alert_open")]
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code} alert {self.pk} for patient {self.patient_id} ({self.status})"

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise NeverDeleted("Safety alerts are never deleted; resolve them with a note.")


# --- integration therapy ----------------------------------------------------------------------


class IntegrationNote(EnteredInError):
    """A therapist's integration note, on a treatment session or on its own; never edited.

    A note written from a template (DAP, BIRP) keeps its sections as well as the text; a note
    entered in error (wrong patient) stays visible with the reason.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="integration_notes")
    session = models.ForeignKey(
        "treatment.TreatmentSession",
        on_delete=models.PROTECT,
        related_name="integration_notes",
        null=True,
        blank=True,
        help_text="Empty for a note that needs no treatment session (an integration visit).",
    )
    template = models.CharField(max_length=20, default="free")
    sections = models.JSONField(default=dict, blank=True)
    body = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"], name="integration_note_idempotent"
            ),
            entered_in_error_constraint("integration_note"),
        ]
        indexes = [models.Index(fields=["clinic", "patient", "-written_at"], name="note_recent")]
        ordering = ["-written_at", "-id"]

    def __str__(self) -> str:
        return f"Integration note {self.pk} on session {self.session_id}"


# --- outcome summaries (derived data, kept current by `ketacare.followup.summaries`) ---------


class CourseOutcome(models.Model):
    """One course's outcome on one instrument: baseline, end score and the core's class.

    Derived from the course and the patient's scores (`followup.summaries`), refreshed when
    either changes, so the dashboard sums rows instead of re-scoring the clinic per request.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    course = models.ForeignKey("scheduling.Course", on_delete=models.PROTECT, related_name="+")
    protocol_id = models.CharField(max_length=64)
    instrument_id = models.CharField(max_length=32)
    measured = models.BooleanField(default=False)
    baseline_total = models.IntegerField(null=True, blank=True)
    end_total = models.IntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "instrument_id"], name="course_outcome_once"),
        ]
        indexes = [models.Index(fields=["clinic", "patient"], name="course_outcome_patient")]

    def __str__(self) -> str:
        return f"{self.instrument_id} outcome of course {self.course_id}: {self.outcome or '–'}"


class OutcomeTally(models.Model):
    """A clinic's course outcomes summed per protocol and instrument, with a histogram of the
    score changes (so the median needs no pass over the courses)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    protocol_id = models.CharField(max_length=64)
    instrument_id = models.CharField(max_length=32)
    courses = models.IntegerField(default=0)
    measured = models.IntegerField(default=0)
    responders = models.IntegerField(default=0)
    remitters = models.IntegerField(default=0)
    changes = models.JSONField(default=dict, help_text="{change: number of courses}")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "protocol_id", "instrument_id"], name="outcome_tally_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol_id} on {self.instrument_id}: {self.measured} measured"


class BoosterSignal(models.Model):
    """A patient on the booster worklist: after their last course the core's relapse signal
    fired. The row exists while the signal holds and goes when it no longer does."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="+")
    course = models.ForeignKey("scheduling.Course", on_delete=models.PROTECT, related_name="+")
    instrument_id = models.CharField(max_length=32)
    baseline_total = models.IntegerField()
    detected_on = models.DateField()
    signal = models.JSONField(help_text="The core's RelapseSignal, as it returned it.")

    class Meta:
        indexes = [models.Index(fields=["clinic", "detected_on", "id"], name="booster_signal_list")]

    def __str__(self) -> str:
        return f"Booster signal for patient {self.patient_id} ({self.detected_on})"


class OutcomeSync(models.Model):
    """How far a clinic's summaries have caught up: the last score and course seen, and the
    time course endings were last read."""

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="+")
    last_response_id = models.BigIntegerField(default=0)
    last_course_id = models.BigIntegerField(default=0)
    courses_ended_before = models.DateTimeField(null=True, blank=True)
    tz = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"Outcome summaries of clinic {self.clinic_id} up to score {self.last_response_id}"
