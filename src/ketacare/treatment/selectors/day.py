"""The day's sessions (Today's sessions) and a patient's sessions for the chart."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, Q
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.kernel import clock
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Appointment, AppointmentStatus
from ketacare.scheduling.selectors import SESSION_KINDS, clinic_zone
from ketacare.treatment.models import (
    LIVE_SESSION_STATUSES,
    Administration,
    InfusionChange,
    MonitoringEntry,
    SessionStatus,
    TreatmentSession,
)
from ketacare.treatment.plans import protocol_of
from ketacare.treatment.selectors.access import sessions_of_clinic
from ketacare.treatment.selectors.record import Attention, attention

S = SessionStatus


@dataclass(frozen=True)
class DayRow:
    """One line of the day's list: an appointment, its session if started, or a walk-in."""

    appointment: Appointment | None
    session: TreatmentSession | None
    attention: tuple[Attention, ...] = ()

    @property
    def patient(self) -> Patient:
        """The patient of the row."""
        if self.session is not None:
            return self.session.patient
        if self.appointment is None:  # pragma: no cover - a row has one or the other
            raise ValueError("a day row needs an appointment or a session")
        return self.appointment.patient

    @property
    def starts_at(self) -> datetime:
        """When the row starts: the appointment, else the check-in."""
        if self.appointment is not None:
            return self.appointment.starts_at
        if self.session is None:  # pragma: no cover - a row has one or the other
            raise ValueError("a day row needs an appointment or a session")
        return self.session.checked_in_at

    @property
    def may_check_in(self) -> bool:
        """A booked or arrived appointment of a course without a session yet."""
        return (
            self.session is None
            and self.appointment is not None
            and self.appointment.course_id is not None
            and self.appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
        )


def sessions_for_day(*, actor: Actor, day: date) -> list[DayRow]:
    """The day's session appointments and sessions (walk-ins too), in time order; audited."""
    actor.require(Permission.SESSION_VIEW)
    zone = clinic_zone(actor.clinic)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=1)
    appointments = list(
        Appointment.objects.filter(
            clinic_id=actor.clinic_id,
            kind__in=SESSION_KINDS,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "chair", "course")
        .order_by("starts_at", "id")
    )
    of_the_day = Q(checked_in_at__gte=start, checked_in_at__lt=end)
    if day == clock.now().astimezone(zone).date():
        # today's list keeps a session still live from an earlier day: an infusion begun before
        # midnight is still in its chair after it, and one left open needs closing
        of_the_day |= Q(checked_in_at__lt=start, status__in=LIVE_SESSION_STATUSES)
    sessions = list(
        sessions_of_clinic(actor=actor)
        .filter(of_the_day)
        .select_related("clinic", "patient", "course", "appointment__chair", "checked_in_by")
        .order_by("checked_in_at", "id")
    )
    waiting = _attention_of_open(sessions)
    by_appointment = {s.appointment_id: s for s in sessions if s.appointment_id}
    rows = []
    for appointment in appointments:
        session = by_appointment.get(appointment.pk)
        rows.append(DayRow(appointment, session, waiting.get(session.pk, ()) if session else ()))
    listed = {a.pk for a in appointments}
    # walk-ins, and sessions carried over from an earlier day with their own appointment
    rows += [
        DayRow(s.appointment, s, waiting.get(s.pk, ()))
        for s in sessions
        if s.appointment_id is None or s.appointment_id not in listed
    ]
    rows.sort(key=lambda r: r.starts_at)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_session",
        detail={
            "day": day.isoformat(),
            "session_ids": [s.pk for s in sessions],
            "appointment_ids": [a.pk for a in appointments],
        },
    )
    return rows


def _attention_of_open(
    sessions: Sequence[TreatmentSession],
) -> dict[int, tuple[Attention, ...]]:
    """For the day's sessions being dosed or observed: what needs attention (three queries)."""
    live = [s for s in sessions if s.status in (S.DOSING, S.OBSERVATION)]
    if not live:
        return {}
    entries: dict[int, list[MonitoringEntry]] = {s.pk: [] for s in live}
    for entry in MonitoringEntry.objects.filter(
        session__in=live, entered_in_error_at__isnull=True
    ).order_by("taken_at", "id"):
        entries[entry.session_id].append(entry)
    administrations = {
        a.session_id: a
        for a in Administration.objects.filter(session__in=live).prefetch_related(
            Prefetch("changes", queryset=InfusionChange.objects.order_by("at", "id"))
        )
    }
    now = clock.now()
    found = {}
    for session in live:
        administration = administrations.get(session.pk)
        found[session.pk] = tuple(
            attention(
                protocol_of(session),
                session,
                entries[session.pk],
                administration,
                list(administration.changes.all()) if administration else [],
                now,
            )
        )
    return found


def patient_sessions(*, actor: Actor, patient: Patient) -> list[TreatmentSession]:
    """A patient's sessions, newest first, for the chart (the chart's read is audited there)."""
    actor.require(Permission.SESSION_VIEW)
    if patient.clinic_id != actor.clinic_id:
        raise Http404("Patient not found.")
    return list(
        sessions_of_clinic(actor=actor)
        .filter(patient=patient)
        .select_related("administration__dose_order")
        .order_by("-checked_in_at", "-id")[:50]
    )
