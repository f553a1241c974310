"""Appointments, what stands in the way of a slot, and proposed course schedules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.protocols import (
    Protocol,
    get_protocol,
    propose_schedule,
)
from ketacare.kernel import clock
from ketacare.scheduling.models import (
    Appointment,
    Chair,
    ClinicSchedule,
    overlapping,
)
from ketacare.scheduling.selectors.courses import _appointments
from ketacare.scheduling.selectors.times import (
    OCCUPYING_STATUSES,
    at_local,
    clinic_schedule_for,
    clinic_zone,
    session_minutes_for,
)

# --- appointments -------------------------------------------------------------------------------


def appointment_get_for_actor(
    *,
    actor: Actor,
    appointment_id: int,
    permission: Permission = Permission.SCHEDULE_VIEW,
    audit: bool = True,
) -> Appointment:
    """One appointment of the actor's clinic, with patient, chair and course; else 404."""
    actor.require(permission)
    appointment = (
        _appointments(actor)
        .select_related("patient", "chair", "course", "rescheduled_from", "therapist")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise Http404("Appointment not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="appointment",
            object_id=appointment.pk,
            patient_id=appointment.patient_id,
        )
    return appointment


def appointments_in_range(
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    patient_id: int | None = None,
    chair_ids: Sequence[int] | None = None,
    include_inactive: bool = True,
    audit: bool = True,
) -> list[Appointment]:
    """Appointments overlapping [start, end) in time order, patient and chair loaded; audited."""
    actor.require(Permission.SCHEDULE_VIEW)
    appointments = (
        _appointments(actor)
        .filter(overlapping(start, end))
        .select_related("patient", "chair", "therapist")
        .order_by("starts_at", "id")
    )
    if patient_id is not None:
        appointments = appointments.filter(patient_id=patient_id)
    if chair_ids is not None:
        appointments = appointments.filter(chair_id__in=list(chair_ids))
    if not include_inactive:
        appointments = appointments.filter(status__in=OCCUPYING_STATUSES)
    found = list(appointments)
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="appointment",
            patient_id=patient_id,
            detail={
                "from": start.isoformat(),
                "to": end.isoformat(),
                "appointment_ids": [a.pk for a in found],
            },
        )
    return found


@dataclass(frozen=True)
class SlotProblem:
    """Why a time cannot be booked: machine code, the field at fault, and a sentence."""

    code: str
    field: str
    message: str


def slot_problems(
    *,
    clinic: Clinic,
    schedule: ClinicSchedule,
    starts_at: datetime,
    ends_at: datetime,
    chair: Chair | None,
    patient_id: int | None,
    now: datetime,
    exclude_ids: Iterable[int] = (),
    therapist_id: int | None = None,
) -> list[SlotProblem]:
    """Everything that keeps a time from being booked: the past, closed hours, a taken chair.

    A chair is taken when another appointment that occupies it overlaps the time; the patient
    cannot be in two appointments at once either, nor the therapist. Call under the chair's
    (and the therapist's) row lock when writing.
    """
    problems: list[SlotProblem] = []
    zone = clinic_zone(clinic)
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    when = f"{local_start:%a %Y-%m-%d %H:%M}–{local_end:%H:%M}"
    if starts_at < now:
        problems.append(SlotProblem("in_the_past", "starts_at", f"{when} has already begun."))
    if local_start.weekday() not in set(schedule.open_weekdays):
        problems.append(
            SlotProblem("clinic_closed", "starts_at", f"The clinic is closed on {local_start:%A}s.")
        )
    elif (
        local_start.time() < schedule.opens_at
        or local_end.date() != local_start.date()
        or local_end.time() > schedule.closes_at
    ):
        problems.append(
            SlotProblem(
                "clinic_closed",
                "starts_at",
                f"{when} is outside opening hours ({schedule.opens_at:%H:%M}–"
                f"{schedule.closes_at:%H:%M}).",
            )
        )
    excluded = list(exclude_ids)
    occupied = overlapping(starts_at, ends_at) & Q(status__in=OCCUPYING_STATUSES)
    if chair is not None:
        if not chair.is_active:
            problems.append(SlotProblem("chair_inactive", "chair_id", f"{chair} is out of use."))
        taken = (
            Appointment.objects.filter(occupied, clinic_id=clinic.pk, chair_id=chair.pk)
            .exclude(pk__in=excluded)
            .order_by("starts_at")
            .first()
        )
        if taken is not None:
            other = taken.starts_at.astimezone(zone)
            problems.append(
                SlotProblem(
                    "chair_taken",
                    "chair_id",
                    f"{chair} is booked {other:%a %Y-%m-%d %H:%M}–"
                    f"{taken.ends_at.astimezone(zone):%H:%M}; choose another chair or time.",
                )
            )
    if patient_id is not None:
        busy = (
            Appointment.objects.filter(occupied, clinic_id=clinic.pk, patient_id=patient_id)
            .exclude(pk__in=excluded)
            .order_by("starts_at")
            .first()
        )
        if busy is not None:
            problems.append(
                SlotProblem(
                    "patient_busy",
                    "starts_at",
                    f"The patient already has an appointment at "
                    f"{busy.starts_at.astimezone(zone):%a %Y-%m-%d %H:%M}.",
                )
            )
    if therapist_id is not None:
        engaged = (
            Appointment.objects.filter(occupied, clinic_id=clinic.pk, therapist_id=therapist_id)
            .exclude(pk__in=excluded)
            .order_by("starts_at")
            .first()
        )
        if engaged is not None:
            problems.append(
                SlotProblem(
                    "therapist_busy",
                    "therapist_id",
                    f"The therapist is already booked "
                    f"{engaged.starts_at.astimezone(zone):%a %Y-%m-%d %H:%M}–"
                    f"{engaged.ends_at.astimezone(zone):%H:%M}; choose another therapist or time.",
                )
            )
    return problems


# --- schedule proposal --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposedSession:
    """One session the core's scheduler proposes, at the chosen time, and what stands in its way."""

    number: int
    day: date
    starts_at: datetime | None
    ends_at: datetime | None
    problems: tuple[SlotProblem, ...] = ()

    @property
    def bookable(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ScheduleProposal:
    """A protocol's proposed sessions from a start day, with the chair time each needs."""

    protocol: Protocol
    session_minutes: int
    sessions: tuple[ProposedSession, ...]

    @property
    def bookable(self) -> bool:
        return all(session.bookable for session in self.sessions)


def schedule_proposal(
    *,
    actor: Actor,
    protocol_id: str,
    start_on: date,
    sessions: int | None = None,
    chair: Chair | None = None,
    first_time: time | None = None,
    patient_id: int | None = None,
    now: datetime | None = None,
) -> ScheduleProposal:
    """Preview a course: the core proposes the days; each is checked at the chosen chair and time.

    Nothing is written. Without a chair and a time only the days are proposed.
    """
    actor.require(Permission.SCHEDULE_VIEW)
    protocol = get_protocol(protocol_id)
    schedule = clinic_schedule_for(clinic=actor.clinic)
    minutes = session_minutes_for(schedule=schedule, protocol=protocol)
    zone = clinic_zone(actor.clinic)
    days = propose_schedule(protocol, start_on, schedule.open_weekdays, sessions=sessions)
    moment = now or clock.now()
    proposed = []
    for number, day in enumerate(days, start=1):
        if first_time is None:
            proposed.append(ProposedSession(number, day, None, None))
            continue
        starts_at = at_local(day, first_time, zone)
        ends_at = starts_at + timedelta(minutes=minutes)
        problems = slot_problems(
            clinic=actor.clinic,
            schedule=schedule,
            starts_at=starts_at,
            ends_at=ends_at,
            chair=chair,
            patient_id=patient_id,
            now=moment,
        )
        proposed.append(ProposedSession(number, day, starts_at, ends_at, tuple(problems)))
    return ScheduleProposal(protocol, minutes, tuple(proposed))
