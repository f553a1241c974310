"""Reads of chairs, courses, appointments and the calendar, scoped to the actor's clinic."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.protocols import (
    DeviceDose,
    Protocol,
    WeightBasedDose,
    get_protocol,
    load_protocols,
    propose_schedule,
)
from ketacare.patients.models import Patient
from ketacare.scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentKind,
    CalendarFeed,
    Chair,
    ClinicSchedule,
    Course,
    CourseStatus,
)

# Appointments that are sessions of a course: the protocol's limits apply to these.
SESSION_KINDS = (AppointmentKind.TREATMENT, AppointmentKind.BOOSTER)
# Appointments that occupy their chair on the calendar (cancelled and no-show ones do not).
OCCUPYING_STATUSES = ACTIVE_APPOINTMENT_STATUSES


# --- time ---------------------------------------------------------------------------------------


def clinic_zone(clinic: Clinic) -> ZoneInfo:
    """The clinic's time zone: its calendar days, opening hours and protocol days are local."""
    return ZoneInfo(clinic.time_zone)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The clinic-local calendar day of an aware datetime (the core counts days in these)."""
    return moment.astimezone(zone).date()


def at_local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """An aware datetime for a local day and wall-clock time in the clinic's zone."""
    return datetime.combine(day, clock, tzinfo=zone)


# --- clinic settings and session length --------------------------------------------------------


def clinic_schedule_for(*, clinic: Clinic) -> ClinicSchedule:
    """The clinic's schedule settings, or the defaults (unsaved) when none were set."""
    schedule = ClinicSchedule.objects.filter(clinic_id=clinic.pk).first()
    return schedule if schedule is not None else ClinicSchedule(clinic=clinic)


def protocol_session_minutes(protocol: Protocol) -> int:
    """Chair time a protocol's session needs: dosing time plus the observation time.

    From the core's data: an infusion's duration, or for esketamine the rests between the
    devices of the largest allowed dose; then the monitoring profile's observation minimum.
    """
    dose = protocol.dose
    dosing = 0
    if isinstance(dose, WeightBasedDose) and dose.duration_min is not None:
        dosing = dose.duration_min
    elif isinstance(dose, DeviceDose):
        devices = max(dose.allowed_mg) // dose.device_mg
        dosing = (devices - 1) * dose.rest_between_devices_min
    return dosing + protocol.monitoring.observation_min


def route_minimum_minutes() -> dict[str, int]:
    """For each route, the longest chair time any of its protocols needs."""
    minimum: dict[str, int] = {}
    for protocol in load_protocols().values():
        minimum[protocol.route] = max(
            minimum.get(protocol.route, 0), protocol_session_minutes(protocol)
        )
    return minimum


def session_minutes_for(*, schedule: ClinicSchedule, protocol: Protocol) -> int:
    """Chair time for one session: the clinic's time for the route, never below the protocol's."""
    required = protocol_session_minutes(protocol)
    configured = (schedule.session_minutes or {}).get(protocol.route)
    return max(required, int(configured)) if configured else required


# --- chairs -------------------------------------------------------------------------------------


def chairs_of_clinic(*, actor: Actor, include_inactive: bool = False) -> list[Chair]:
    """The clinic's chairs by room and label (active ones unless asked otherwise)."""
    actor.require(Permission.SCHEDULE_VIEW)
    chairs = Chair.objects.filter(clinic_id=actor.clinic_id)
    if not include_inactive:
        chairs = chairs.filter(is_active=True)
    return list(chairs.order_by("room", "label", "id"))


def chair_get_for_actor(
    *, actor: Actor, chair_id: int, permission: Permission = Permission.SCHEDULE_VIEW
) -> Chair:
    """One chair of the actor's clinic; another clinic's chair is not found (404)."""
    actor.require(permission)
    chair = Chair.objects.filter(clinic_id=actor.clinic_id, pk=chair_id).first()
    if chair is None:
        raise Http404("Chair not found.")
    return chair


# --- courses ------------------------------------------------------------------------------------


def _courses(actor: Actor) -> QuerySet[Course]:
    return Course.objects.filter(clinic_id=actor.clinic_id)


def _appointments(actor: Actor) -> QuerySet[Appointment]:
    return Appointment.objects.filter(clinic_id=actor.clinic_id)


def course_get_for_actor(
    *,
    actor: Actor,
    course_id: int,
    permission: Permission = Permission.SCHEDULE_VIEW,
    audit: bool = True,
) -> Course:
    """One course of the actor's clinic, patient and parent loaded; others are not found."""
    actor.require(permission)
    course = (
        _courses(actor)
        .select_related("patient", "parent", "screening")
        .filter(pk=course_id)
        .first()
    )
    if course is None:
        raise Http404("Course not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="course",
            object_id=course.pk,
            patient_id=course.patient_id,
        )
    return course


def course_appointments(*, course: Course) -> list[Appointment]:
    """Every appointment of a course (cancelled ones too), in time order, chairs loaded."""
    return list(
        Appointment.objects.filter(clinic_id=course.clinic_id, course=course)
        .select_related("chair")
        .order_by("starts_at", "id")
    )


def course_session_days(
    *, course: Course, zone: ZoneInfo, exclude_ids: Iterable[int] = ()
) -> list[date]:
    """Local days of a course's sessions that count for the protocol (booked to completed)."""
    starts = (
        Appointment.objects.filter(
            clinic_id=course.clinic_id,
            course=course,
            kind__in=SESSION_KINDS,
            status__in=ACTIVE_APPOINTMENT_STATUSES,
        )
        .exclude(pk__in=list(exclude_ids))
        .values_list("starts_at", flat=True)
    )
    return sorted(local_date(start, zone) for start in starts)


def other_course_sessions(
    *,
    clinic_id: int,
    patient_id: int,
    route: str,
    zone: ZoneInfo,
    exclude_course_id: int | None = None,
    exclude_ids: Iterable[int] = (),
) -> list[tuple[date, int | None]]:
    """(local day, course id) of the patient's sessions on a route outside one course."""
    rows = (
        Appointment.objects.filter(
            clinic_id=clinic_id,
            patient_id=patient_id,
            course__route=route,
            kind__in=SESSION_KINDS,
            status__in=ACTIVE_APPOINTMENT_STATUSES,
        )
        .exclude(pk__in=list(exclude_ids))
        .values_list("starts_at", "course_id")
    )
    if exclude_course_id is not None:
        rows = rows.exclude(course_id=exclude_course_id)
    return sorted((local_date(start, zone), course_id) for start, course_id in rows)


def courses_of_patient(*, actor: Actor, patient: Patient, audit: bool = True) -> list[Course]:
    """A patient's courses, newest first, each with its appointments (chairs loaded)."""
    actor.require(Permission.SCHEDULE_VIEW)
    courses = list(
        _courses(actor)
        .filter(patient_id=patient.pk)
        .select_related("parent")
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=Appointment.objects.filter(clinic_id=actor.clinic_id)
                .select_related("chair", "patient")
                .order_by("starts_at", "id"),
            )
        )
        .order_by("-started_on", "-id")
    )
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="course",
            patient_id=patient.pk,
            detail={"course_ids": [c.pk for c in courses]},
        )
    return courses


def active_courses_of_clinic(*, actor: Actor) -> list[Course]:
    """The clinic's active courses with their patients and counted sessions, for booking forms."""
    actor.require(Permission.SCHEDULE_VIEW)
    return list(
        _courses(actor)
        .filter(status=CourseStatus.ACTIVE)
        .select_related("patient")
        .annotate(
            sessions_counted=Count(
                "appointments",
                filter=Q(
                    appointments__status__in=ACTIVE_APPOINTMENT_STATUSES,
                    appointments__kind__in=SESSION_KINDS,
                ),
            )
        )
        .order_by("patient__family_name", "patient__given_name", "id")
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
        .select_related("patient", "chair", "course", "rescheduled_from")
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
        .filter(starts_at__lt=end, ends_at__gt=start)
        .select_related("patient", "chair")
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
) -> list[SlotProblem]:
    """Everything that keeps a time from being booked: the past, closed hours, a taken chair.

    A chair is taken when another appointment that occupies it overlaps the time; the patient
    cannot be in two appointments at once either. Call under the chair's row lock when writing.
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
    overlapping = Q(starts_at__lt=ends_at, ends_at__gt=starts_at, status__in=OCCUPYING_STATUSES)
    if chair is not None:
        if not chair.is_active:
            problems.append(SlotProblem("chair_inactive", "chair_id", f"{chair} is out of use."))
        taken = (
            Appointment.objects.filter(overlapping, clinic_id=clinic.pk, chair_id=chair.pk)
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
            Appointment.objects.filter(overlapping, clinic_id=clinic.pk, patient_id=patient_id)
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
    moment = now or timezone.now()
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


# --- calendar -----------------------------------------------------------------------------------


@dataclass
class ChairCell:
    """One chair at one time slot: free, the start of a booking (spanning rows), or covered."""

    chair: Chair
    starts_at: datetime
    state: str = "free"  # free | booked | covered
    appointments: list[Appointment] = field(default_factory=list)
    rowspan: int = 1
    bookable: bool = False

    @property
    def start_param(self) -> str:
        return self.starts_at.isoformat()


@dataclass
class DayRow:
    """A time slot of the day view: one cell per chair, and how many chairs are booked."""

    starts_at: datetime
    cells: list[ChairCell]
    booked: int = 0

    @property
    def free(self) -> int:
        return sum(1 for cell in self.cells if cell.state == "free" and cell.chair.is_active)


@dataclass
class CalendarDay:
    """The day view: chairs as columns, time slots as rows, capacity per slot."""

    day: date
    zone: ZoneInfo
    is_open: bool
    slot_minutes: int
    chairs: list[Chair]
    rooms: list[str]
    room: str
    rows: list[DayRow]
    off_grid: list[Appointment]
    inactive: list[Appointment]

    @property
    def capacity(self) -> int:
        return sum(1 for chair in self.chairs if chair.is_active)

    @property
    def booked_total(self) -> int:
        return len({a.pk for row in self.rows for c in row.cells for a in c.appointments})


def _slot_times(day: date, schedule: ClinicSchedule, zone: ZoneInfo) -> list[datetime]:
    start = at_local(day, schedule.opens_at, zone)
    end = at_local(day, schedule.closes_at, zone)
    step = timedelta(minutes=schedule.slot_minutes)
    slots = []
    moment = start
    while moment < end:
        slots.append(moment)
        moment += step
    return slots


def _span(
    appointment: Appointment, grid_start: datetime, step: timedelta, rows: int
) -> tuple[int, int] | None:
    first = math.floor((appointment.starts_at - grid_start) / step)
    last = math.ceil((appointment.ends_at - grid_start) / step)
    first, last = max(first, 0), min(last, rows)
    return (first, last) if first < last else None


def _calendar_chairs(actor: Actor, room: str) -> tuple[list[Chair], list[str], str]:
    chairs = chairs_of_clinic(actor=actor)
    rooms = sorted({chair.room for chair in chairs})
    if room not in rooms:
        room = ""
    if room:
        chairs = [chair for chair in chairs if chair.room == room]
    return chairs, rooms, room


def calendar_day(
    *, actor: Actor, day: date, room: str = "", now: datetime | None = None
) -> CalendarDay:
    """The day view of the clinic's chairs (one room's, if given) with every appointment placed."""
    actor.require(Permission.SCHEDULE_VIEW)
    schedule = clinic_schedule_for(clinic=actor.clinic)
    zone = clinic_zone(actor.clinic)
    chairs, rooms, room = _calendar_chairs(actor, room)
    slots = _slot_times(day, schedule, zone)
    step = timedelta(minutes=schedule.slot_minutes)
    moment = now or timezone.now()
    is_open = day.weekday() in set(schedule.open_weekdays)
    day_start = at_local(day, time(0), zone)
    day_end = at_local(day + timedelta(days=1), time(0), zone)
    appointments = appointments_in_range(
        actor=actor,
        start=day_start,
        end=day_end,
        chair_ids=[chair.pk for chair in chairs] if room else None,
    )
    rows = [
        DayRow(
            starts_at=slot,
            cells=[
                ChairCell(chair, slot, bookable=is_open and slot >= moment and chair.is_active)
                for chair in chairs
            ],
        )
        for slot in slots
    ]
    column = {chair.pk: index for index, chair in enumerate(chairs)}
    # The last block placed in each chair's column: (first row, cell).
    blocks: dict[int, tuple[int, ChairCell]] = {}
    off_grid: list[Appointment] = []
    inactive: list[Appointment] = []
    for appointment in appointments:  # in start order
        if appointment.status not in OCCUPYING_STATUSES:
            inactive.append(appointment)
            continue
        span = _span(appointment, slots[0], step, len(slots)) if slots else None
        if appointment.chair_id not in column or span is None:
            off_grid.append(appointment)
            continue
        first, last = span
        index = column[appointment.chair_id]
        block = blocks.get(index)
        if block is not None and first < block[0] + block[1].rowspan:
            # Overlaps the block before it: bookings lock the chair so this should not happen,
            # but the calendar must never hide an appointment, so it joins that block.
            block_row, cell = block
            cell.appointments.append(appointment)
            last = max(last, block_row + cell.rowspan)
            first, cell.rowspan = block_row, last - block_row
        else:
            cell = rows[first].cells[index]
            cell.state, cell.appointments, cell.rowspan = "booked", [appointment], last - first
            blocks[index] = (first, cell)
        for r in range(first + 1, last):
            rows[r].cells[index].state = "covered"
    for row in rows:
        row.booked = sum(1 for cell in row.cells if cell.state != "free")
    return CalendarDay(
        day=day,
        zone=zone,
        is_open=is_open,
        slot_minutes=schedule.slot_minutes,
        chairs=chairs,
        rooms=rooms,
        room=room,
        rows=rows,
        off_grid=off_grid,
        inactive=inactive,
    )


@dataclass
class WeekCell:
    """One day at one time slot in the week view: chairs booked, and who starts then."""

    day: date
    starts_at: datetime
    is_open: bool
    booked: int = 0
    starting: list[Appointment] = field(default_factory=list)


@dataclass
class WeekRow:
    """A time slot across the week's days."""

    label: str
    cells: list[WeekCell]


@dataclass(frozen=True)
class WeekDay:
    """A day column of the week view: whether the clinic is open, and its appointments."""

    day: date
    is_open: bool
    appointments: int


@dataclass
class CalendarWeek:
    """The week view: days as columns, time slots as rows, chairs booked of chairs available."""

    week_start: date
    columns: list[WeekDay]
    capacity: int
    rooms: list[str]
    room: str
    rows: list[WeekRow]
    off_grid: list[Appointment]


def calendar_week(*, actor: Actor, week_start: date, room: str = "") -> CalendarWeek:
    """The week (Monday to Sunday) of the clinic's chairs, or one room's, with capacity per slot."""
    actor.require(Permission.SCHEDULE_VIEW)
    schedule = clinic_schedule_for(clinic=actor.clinic)
    zone = clinic_zone(actor.clinic)
    chairs, rooms, room = _calendar_chairs(actor, room)
    days = [week_start + timedelta(days=offset) for offset in range(7)]
    open_weekdays = set(schedule.open_weekdays)
    appointments = appointments_in_range(
        actor=actor,
        start=at_local(days[0], time(0), zone),
        end=at_local(days[-1] + timedelta(days=1), time(0), zone),
        chair_ids=[chair.pk for chair in chairs] if room else None,
        include_inactive=False,
    )
    step = timedelta(minutes=schedule.slot_minutes)
    grid = {day: _slot_times(day, schedule, zone) for day in days}
    cells = {
        day: [WeekCell(day, slot, day.weekday() in open_weekdays) for slot in grid[day]]
        for day in days
    }
    occupied: dict[tuple[date, int], set[int]] = {}
    off_grid: list[Appointment] = []
    totals = dict.fromkeys(days, 0)
    for appointment in appointments:
        day = local_date(appointment.starts_at, zone)
        if day not in cells:
            continue
        totals[day] += 1
        span = _span(appointment, grid[day][0], step, len(grid[day])) if grid[day] else None
        if span is None:
            off_grid.append(appointment)
            continue
        first, last = span
        cells[day][first].starting.append(appointment)
        if appointment.chair_id is not None:
            for index in range(first, last):
                occupied.setdefault((day, index), set()).add(appointment.chair_id)
    for day in days:
        for index, cell in enumerate(cells[day]):
            cell.booked = len(occupied.get((day, index), ()))
    labels = [slot.strftime("%H:%M") for slot in grid[days[0]]]
    rows = [
        WeekRow(label, [cells[day][index] for day in days]) for index, label in enumerate(labels)
    ]
    return CalendarWeek(
        week_start=week_start,
        columns=[WeekDay(day, day.weekday() in open_weekdays, totals[day]) for day in days],
        capacity=sum(1 for chair in chairs if chair.is_active),
        rooms=rooms,
        room=room,
        rows=rows,
        off_grid=off_grid,
    )


# --- iCalendar feed -----------------------------------------------------------------------------


def calendar_feed_for_token(*, token_hash: str) -> CalendarFeed | None:
    """The live feed with this token hash, clinic loaded; a revoked or unknown token is None."""
    return (
        CalendarFeed.objects.select_related("clinic")
        .filter(token_hash=token_hash, revoked_at__isnull=True)
        .first()
    )


def live_calendar_feed(*, actor: Actor) -> CalendarFeed | None:
    """The clinic's live feed, if one was issued (its URL cannot be shown again: hash only)."""
    actor.require(Permission.CLINIC_MANAGE)
    return CalendarFeed.objects.filter(clinic_id=actor.clinic_id, revoked_at__isnull=True).first()


def feed_appointments(*, clinic: Clinic, start: datetime, end: datetime) -> list[Appointment]:
    """The clinic's appointments that occupy a time in [start, end), for the staff feed."""
    return list(
        Appointment.objects.filter(
            clinic_id=clinic.pk,
            starts_at__lt=end,
            ends_at__gt=start,
            status__in=OCCUPYING_STATUSES,
        )
        .select_related("patient", "chair")
        .order_by("starts_at", "id")
    )
