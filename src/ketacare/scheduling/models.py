"""Chairs, treatment courses and appointments."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.consent.models import ConsentSignature
from ketacare.kernel.choices import DANGER, OK, WARN, ColouredChoices
from ketacare.patients.models import Patient
from ketacare.screening.models import Screening


class Chair(models.Model):
    """A treatment chair (or bed) in a room: one patient at a time."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="chairs")
    room = models.CharField(max_length=100)
    label = models.CharField(max_length=50)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "room", "label"], name="chair_unique_in_room")
        ]
        ordering = ["room", "label"]

    def __str__(self) -> str:
        return f"{self.room} · {self.label}"


class CourseKind(models.TextChoices):
    """Why a course was started."""

    INDUCTION = "induction", "Induction"
    BOOSTER = "booster", "Booster"
    MAINTENANCE = "maintenance", "Maintenance"


class CourseStatus(ColouredChoices):
    """Where a course stands."""

    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"

    @classmethod
    def badge_colours(cls) -> dict[str, str]:
        """Badge colours of the statuses that are not plain."""
        return {
            cls.ACTIVE: OK,
            cls.STOPPED: DANGER,
        }


class Course(models.Model):
    """A patient's course under one protocol version, started on a screening and a consent."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    protocol_id = models.CharField(max_length=64)
    protocol_version = models.CharField(max_length=32)
    route = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=CourseKind.choices, default=CourseKind.INDUCTION)
    status = models.CharField(
        max_length=20, choices=CourseStatus.choices, default=CourseStatus.ACTIVE
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="booster_courses",
        help_text="The course this booster course follows.",
    )
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="courses")
    consent = models.ForeignKey(ConsentSignature, on_delete=models.PROTECT, related_name="courses")
    planned_sessions = models.PositiveIntegerField(null=True, blank=True)
    started_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    idempotency_key = models.CharField(
        max_length=64, blank=True, help_text="The submission's key: a retry returns this course."
    )

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "patient", "status"], name="course_patient_status"),
            # Outcome summaries find the courses that ended since they last looked.
            models.Index(fields=["clinic", "ended_at"], name="course_clinic_ended"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="course_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status=CourseStatus.ACTIVE) | ~models.Q(end_reason=""),
                name="course_ended_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} course {self.pk} ({self.protocol_id})"


class AppointmentKind(models.TextChoices):
    """What the appointment is for."""

    TREATMENT = "treatment", "Treatment session"
    BOOSTER = "booster", "Booster session"
    CONSULT = "consult", "Consultation"
    INTEGRATION = "integration", "Integration therapy"


class AppointmentStatus(ColouredChoices):
    """An appointment's state; cancelled ones keep their reason."""

    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    IN_SESSION = "in_session", "In session"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "Did not attend"
    NOT_DOSED = "not_dosed", "Attended, not dosed"

    @classmethod
    def badge_colours(cls) -> dict[str, str]:
        """Badge colours of the statuses that are not plain."""
        return {
            cls.COMPLETED: OK,
            cls.ARRIVED: WARN,
            cls.IN_SESSION: WARN,
            cls.CANCELLED: DANGER,
            cls.NO_SHOW: DANGER,
        }


ACTIVE_APPOINTMENT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.IN_SESSION,
    AppointmentStatus.COMPLETED,
)


# No appointment is longer than a day: booking keeps it inside one day's opening hours
# (`selectors.slot_problems`). Range reads use it as the lower bound of `starts_at`, so an index
# on the start time answers "what overlaps this week" without walking the clinic's history.
LONGEST_APPOINTMENT = timedelta(days=1)


def overlapping(start: datetime, end: datetime) -> models.Q:
    """Appointments that occupy any time in [start, end), bounded on the indexed start time."""
    return models.Q(starts_at__lt=end, starts_at__gt=start - LONGEST_APPOINTMENT, ends_at__gt=start)


class Appointment(models.Model):
    """A booked time in a chair for a patient, usually one session of a course."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    chair = models.ForeignKey(
        Chair, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="therapy_appointments",
        help_text="The therapist an integration session is booked with (a therapist of the "
        "clinic).",
    )
    kind = models.CharField(
        max_length=20, choices=AppointmentKind.choices, default=AppointmentKind.TREATMENT
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    cancel_reason = models.TextField(blank=True)
    rescheduled_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rescheduled_to"
    )
    reschedule_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)
    idempotency_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="The submission's key: a retry returns this appointment.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "starts_at"], name="appointment_clinic_day"),
            models.Index(fields=["chair", "starts_at"], name="appointment_chair_time"),
            # A therapist's day (the start page) and the double-booking check read by therapist.
            models.Index(fields=["therapist", "starts_at"], name="appointment_therapist_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="appointment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=AppointmentStatus.CANCELLED)
                | ~models.Q(cancel_reason=""),
                name="appointment_cancelled_with_reason",
            ),
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="appointment_idempotency_key_unique",
            ),
        ]
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M} ({self.patient_id})"


def _monday_to_friday() -> list[int]:
    return [0, 1, 2, 3, 4]


class ClinicSchedule(models.Model):
    """A clinic's opening days and hours, calendar slot size, and session lengths per route.

    Session lengths default to the protocol's dosing time plus its observation time (derived
    from the core's data, `selectors.protocol_session_minutes`); a clinic may set a longer
    time per route (room turnover, check-in), never a shorter one.
    """

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="schedule")
    open_weekdays = models.JSONField(
        default=_monday_to_friday, help_text="Days the clinic treats: 0 = Monday ... 6 = Sunday."
    )
    opens_at = models.TimeField(default=time(8, 0))
    closes_at = models.TimeField(default=time(18, 0))
    slot_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="Rows of the calendar: 10, 15, 20, 30 or 60 minutes."
    )
    session_minutes = models.JSONField(
        default=dict,
        blank=True,
        help_text="Chair time per route ('iv': 90); a route left out uses the protocol's time.",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="clinic_schedule_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__in=[10, 15, 20, 30, 60]),
                name="clinic_schedule_slot_divides_an_hour",
            ),
        ]

    def __str__(self) -> str:
        return f"Schedule of {self.clinic}"


class CalendarFeed(models.Model):
    """A secret iCalendar feed URL for a clinic's staff calendars; only the token's hash is kept.

    Rotating revokes the current feed and issues a new one: the old URL then answers 404.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_calendar_feed_per_clinic",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.pk} of {self.clinic}"
