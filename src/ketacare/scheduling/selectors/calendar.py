"""The day and week calendars per room and chair, and the iCalendar feed's reads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic
from ketacare.accounts.permissions import Permission
from ketacare.kernel import clock
from ketacare.scheduling.models import (
    Appointment,
    CalendarFeed,
    Chair,
    ClinicSchedule,
    overlapping,
)
from ketacare.scheduling.selectors.booking import appointments_in_range
from ketacare.scheduling.selectors.courses import chairs_of_clinic
from ketacare.scheduling.selectors.times import (
    OCCUPYING_STATUSES,
    at_local,
    clinic_schedule_for,
    clinic_zone,
    local_date,
)

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


@dataclass(frozen=True)
class TherapistBookings:
    """One therapist's integration sessions of the day, in time order."""

    therapist_id: int
    name: str
    appointments: list[Appointment]


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
    therapists: list[TherapistBookings] = field(default_factory=list)

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
    moment = now or clock.now()
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
    by_therapist: dict[int, list[Appointment]] = {}
    for appointment in appointments:  # in start order
        if appointment.status not in OCCUPYING_STATUSES:
            inactive.append(appointment)
            continue
        if appointment.therapist_id is not None:
            # Integration sessions are the therapist's time: listed under the therapist, and
            # in a chair's column too when a chair (a room) was booked for them.
            by_therapist.setdefault(appointment.therapist_id, []).append(appointment)
        span = _span(appointment, slots[0], step, len(slots)) if slots else None
        if appointment.chair_id not in column or span is None:
            if appointment.therapist_id is None:
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
        therapists=sorted(
            (
                TherapistBookings(therapist_id, _therapist_name(booked[0]), booked)
                for therapist_id, booked in by_therapist.items()
            ),
            key=lambda bookings: (bookings.name, bookings.therapist_id),
        ),
    )


def _therapist_name(appointment: Appointment) -> str:
    therapist = appointment.therapist
    return therapist.display_name() if therapist is not None else "—"


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


def feed_appointments(
    *, clinic: Clinic, start: datetime, end: datetime, limit: int
) -> list[Appointment]:
    """The clinic's appointments that occupy a time in [start, end), for the staff feed: the
    first `limit` of them in time order."""
    return list(
        Appointment.objects.filter(
            overlapping(start, end), clinic_id=clinic.pk, status__in=OCCUPYING_STATUSES
        )
        .select_related("patient", "chair", "therapist")
        .order_by("starts_at", "id")[:limit]
    )
