"""Web forms for courses, appointments and the clinic's schedule; they validate, services write.

Date-times are entered as clinic-local wall-clock times: the views run with the clinic's
time zone active, so Django makes them aware in that zone.
"""

import uuid
from typing import Any

from django import forms

from ketacare.accounts.models import User
from ketacare.clinical.protocols import load_protocols
from ketacare.kernel.bounds import BoundedForm
from ketacare.scheduling.models import AppointmentKind, Chair, Course

LOCAL_INPUT = "%Y-%m-%dT%H:%M"
WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


def _local_datetime_field(label: str, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
        **kwargs,
    )


def _idempotency_field() -> forms.CharField:
    return forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=64, initial=lambda: uuid.uuid4().hex
    )


class ChairChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A chair shown as "Room · Chair"."""

    def label_from_instance(self, obj: Chair) -> str:
        return str(obj)


class CourseChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """An active course shown with the patient's name and MRN, for the front desk."""

    def label_from_instance(self, obj: Course) -> str:
        counted = getattr(obj, "sessions_counted", None)
        planned = f"{counted}/{obj.planned_sessions}" if obj.planned_sessions else f"{counted}"
        return (
            f"{obj.patient.family_name}, {obj.patient.given_name} ({obj.patient.mrn}) — "
            f"{obj.protocol_id}, {planned} sessions booked"
        )


class TherapistChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A therapist of the clinic, shown by name."""

    def label_from_instance(self, obj: User) -> str:
        return obj.display_name()


def protocol_choices() -> list[tuple[str, str]]:
    """The packaged protocols, by title; none chosen until the prescriber chooses."""
    return [("", "— choose the protocol —")] + sorted(
        ((p.id, f"{p.title} ({p.route})") for p in load_protocols().values()),
        key=lambda choice: choice[1],
    )


class AppointmentForm(BoundedForm):
    """Book an appointment: a session of an active course, or a consultation for a patient."""

    course = CourseChoiceField(queryset=Course.objects.none(), required=False)
    patient_mrn = forms.CharField(
        label="Patient MRN (consultations without a course)", required=False, max_length=32
    )
    kind = forms.ChoiceField(
        choices=[("", "Session of the course"), *AppointmentKind.choices], required=False
    )
    therapist = TherapistChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Therapist (integration therapy)",
        help_text="An integration session is booked with one of the clinic's therapists.",
    )
    chair = ChairChoiceField(queryset=Chair.objects.none(), required=False)
    starts_at = _local_datetime_field("Starts at")
    minutes = forms.IntegerField(
        min_value=5,
        max_value=720,
        required=False,
        help_text="Sessions take the protocol's time; leave empty.",
    )
    idempotency_key = _idempotency_field()

    def __init__(
        self,
        *args: Any,
        courses: list[Course],
        chairs: list[Chair],
        therapists: list[User],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        # Only the clinic's own therapists are offered, and only they validate: another
        # clinic's therapist id is "not one of the available choices".
        therapist_field: TherapistChoiceField = self.fields["therapist"]  # type: ignore[assignment]
        therapist_field.queryset = User.objects.filter(pk__in=[t.pk for t in therapists])
        therapist_field.choices = [("", "—")] + [(t.pk, t.display_name()) for t in therapists]
        course_field: CourseChoiceField = self.fields["course"]  # type: ignore[assignment]
        course_field.queryset = Course.objects.filter(pk__in=[c.pk for c in courses])
        course_field.choices = [("", "—")] + [
            (c.pk, course_field.label_from_instance(c)) for c in courses
        ]
        chair_field: ChairChoiceField = self.fields["chair"]  # type: ignore[assignment]
        chair_field.queryset = Chair.objects.filter(pk__in=[c.pk for c in chairs])
        chair_field.choices = [("", "No chair")] + [(c.pk, str(c)) for c in chairs]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        course, mrn = data.get("course"), (data.get("patient_mrn") or "").strip()
        if not course and not mrn:
            raise forms.ValidationError("Choose a course, or give the patient's MRN.")
        if course and mrn and course.patient.mrn != mrn:
            # Opened from one patient's chart, a course of another patient must not book them.
            self.add_error(
                "course",
                "That course is another patient's: choose one of this patient's courses, or "
                "clear the MRN.",
            )
        return data


class CourseStartForm(BoundedForm):
    """Start a course: protocol, first day, chair and time of day."""

    protocol_id = forms.ChoiceField(label="Protocol", choices=protocol_choices)
    start_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    first_time = forms.TimeField(
        label="Time of day", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    chair = ChairChoiceField(queryset=Chair.objects.none())
    sessions = forms.IntegerField(
        min_value=1,
        max_value=60,
        required=False,
        help_text="Leave empty for the protocol's course; needed for open-ended protocols.",
    )
    idempotency_key = _idempotency_field()

    def __init__(self, *args: Any, chairs: list[Chair], **kwargs: Any):
        super().__init__(*args, **kwargs)
        chair_field: ChairChoiceField = self.fields["chair"]  # type: ignore[assignment]
        chair_field.queryset = Chair.objects.filter(pk__in=[c.pk for c in chairs])
        chair_field.choices = [(c.pk, str(c)) for c in chairs]


class RescheduleForm(BoundedForm):
    """Move a booked appointment, with a reason."""

    starts_at = _local_datetime_field("New time")
    chair = ChairChoiceField(
        queryset=Chair.objects.none(), required=False, help_text="Leave for the same chair."
    )
    reason = forms.CharField(max_length=500, widget=forms.TextInput)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, chairs: list[Chair], **kwargs: Any):
        super().__init__(*args, **kwargs)
        chair_field: ChairChoiceField = self.fields["chair"]  # type: ignore[assignment]
        chair_field.queryset = Chair.objects.filter(pk__in=[c.pk for c in chairs])
        chair_field.choices = [("", "Same chair")] + [(c.pk, str(c)) for c in chairs]


class ReasonForm(BoundedForm):
    """A reason and the version read: cancelling an appointment, stopping a course."""

    reason = forms.CharField(max_length=500, widget=forms.TextInput)
    version = forms.IntegerField(widget=forms.HiddenInput)


class BoosterForm(BoundedForm):
    """Add a booster session to a course."""

    starts_at = _local_datetime_field("Booster at")
    chair = ChairChoiceField(queryset=Chair.objects.none())
    idempotency_key = _idempotency_field()

    def __init__(self, *args: Any, chairs: list[Chair], **kwargs: Any):
        super().__init__(*args, **kwargs)
        chair_field: ChairChoiceField = self.fields["chair"]  # type: ignore[assignment]
        chair_field.queryset = Chair.objects.filter(pk__in=[c.pk for c in chairs])
        chair_field.choices = [(c.pk, str(c)) for c in chairs]


class ScheduleSettingsForm(BoundedForm):
    """Opening days and hours, calendar slot, and chair time per route."""

    open_weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    opens_at = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    closes_at = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    slot_minutes = forms.TypedChoiceField(
        choices=[(m, f"{m} minutes") for m in (10, 15, 20, 30, 60)], coerce=int
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, minimums: dict[str, int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.routes = sorted(minimums)
        for route in self.routes:
            self.fields[f"minutes_{route}"] = forms.IntegerField(
                label=f"Chair time for {route} sessions (minutes)",
                required=False,
                min_value=minimums[route],
                max_value=720,
                help_text=f"At least {minimums[route]} (the protocol's dosing and observation); "
                "empty uses that.",
            )

    def session_minutes(self) -> dict[str, int]:
        return {
            route: self.cleaned_data[f"minutes_{route}"]
            for route in self.routes
            if self.cleaned_data.get(f"minutes_{route}")
        }


class ChairForm(BoundedForm):
    """A new chair."""

    room = forms.CharField(max_length=100)
    label = forms.CharField(max_length=50)
