"""The chair board: today's sessions as the clinic's rooms and chairs, and what needs someone.

Each chair shows its live session (or its next booking): the patient, the phase, time elapsed
against the plan, the next reading due or overdue, and whom the session waits for. The board
decides nothing itself: its exceptions are the session page's "needs attention now" list
(`selectors.attention`: unanswered alarms, overdue readings and an overrunning infusion, each
decided by the core), so the board, Today's sessions, the session page and each clinician's
start page say the same thing. A fixed number of queries serves any number of
chairs and sessions.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Prefetch

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.kernel import clock
from ketacare.scheduling.models import Appointment, AppointmentStatus, Chair
from ketacare.scheduling.selectors import SESSION_KINDS, clinic_zone
from ketacare.treatment.models import (
    LIVE_SESSION_STATUSES,
    Administration,
    DoseOrder,
    DoseOrderStatus,
    InfusionChange,
    MonitoringEntry,
    SessionStatus,
    TreatmentSession,
)
from ketacare.treatment.plans import protocol_of
from ketacare.treatment.selectors import (
    Attention,
    DueReading,
    attention,
    due_readings,
    sessions_of_clinic,
)

S = SessionStatus
LIVE = LIVE_SESSION_STATUSES

# Whom each step of a session waits for, and for what (the workflow of the session page).
WAITS_FOR: dict[str, tuple[str, str]] = {
    S.CHECKED_IN: ("nurse", "pre-dose checks"),
    S.PRE_CHECKED: ("prescriber", "the dose order"),
    S.ORDERED: ("clinician", "verification by a second clinician"),
    S.VERIFIED: ("nurse", "the start of dosing"),
    S.DOSING: ("nurse", "the end of dosing"),
    S.OBSERVATION: ("clinician", "discharge when observation and criteria are met"),
}


@dataclass(frozen=True)
class BoardAlert:
    """Something on the board that needs a person now: an alarm, an overdue reading, a wait."""

    kind: str
    message: str


@dataclass(frozen=True)
class ChairTile:
    """One chair: its live session (if any), or its next booking today."""

    chair: Chair | None
    session: TreatmentSession | None
    next_booking: Appointment | None
    phase: str
    elapsed_min: int | None
    planned_min: int | None
    next_due: DueReading | None
    waits_for_role: str
    waits_for: str
    exceptions: tuple[BoardAlert, ...]

    @property
    def over_plan(self) -> bool:
        """Past the plan: while dosing, only when the core finds the infusion overrunning (its
        pauses and rate changes counted); while observing, the minimum observation has passed."""
        if self.session is not None and self.session.status == S.DOSING:
            return any(e.kind == "overrun" for e in self.exceptions)
        return (
            self.elapsed_min is not None
            and self.planned_min is not None
            and self.elapsed_min > self.planned_min
        )


@dataclass(frozen=True)
class Room:
    """A room and its chairs, in label order."""

    name: str
    tiles: list[ChairTile]


@dataclass(frozen=True)
class Board:
    """Today's rooms and chairs, and every exception on them, most urgent first."""

    day: date
    now: datetime
    rooms: list[Room]
    exceptions: list[tuple[ChairTile, BoardAlert]] = field(default_factory=list)

    def for_role(self, role: str) -> list[tuple[ChairTile, BoardAlert]]:
        """The exceptions a member of this role acts on (a prescriber: orders and decisions)."""
        wanted = {
            Role.PRESCRIBER: {"alarm", "overdue", "overrun", "prescriber", "clinician"},
            Role.NURSE: {"alarm", "overdue", "overrun", "nurse", "clinician"},
        }.get(Role(role), {"alarm", "overdue", "overrun"})
        return [(tile, e) for tile, e in self.exceptions if e.kind in wanted]


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _elapsed(
    session: TreatmentSession, order: DoseOrder | None, now: datetime
) -> tuple[int, int | None]:
    """Minutes in the current phase, and the plan for it (dose duration, observation)."""
    if session.status == S.DOSING and session.dosing_started_at is not None:
        planned = int(order.duration_min) if order and order.duration_min else None
        return _minutes(now - session.dosing_started_at), planned
    if session.status == S.OBSERVATION and session.dosing_ended_at is not None:
        return (
            _minutes(now - session.dosing_ended_at),
            protocol_of(session).monitoring.observation_min,
        )
    return _minutes(now - session.checked_in_at), None


def _board_alert(item: Attention) -> BoardAlert:
    """The session's attention item as the board lists it (alarms say so; the rest read as is)."""
    return BoardAlert(
        item.kind, f"Alarm at {item.message}" if item.kind == "alarm" else item.message
    )


def _tile(
    session: TreatmentSession,
    entries: Sequence[MonitoringEntry],
    order: DoseOrder | None,
    administration: Administration | None,
    changes: Sequence[InfusionChange],
    now: datetime,
) -> ChairTile:
    counted = [e for e in entries if e.entered_in_error_at is None]
    protocol = protocol_of(session)
    due = due_readings(protocol, session, counted, now)
    elapsed, planned = _elapsed(session, order, now)
    role, what = WAITS_FOR.get(session.status, ("", ""))
    found = [
        _board_alert(item)
        for item in attention(protocol, session, counted, administration, changes, now)
    ]
    if role in ("prescriber", "clinician") and session.status in (S.PRE_CHECKED, S.ORDERED):
        found.append(BoardAlert(role, f"Waiting for {what}"))
    return ChairTile(
        chair=session.appointment.chair if session.appointment is not None else None,
        session=session,
        next_booking=None,
        phase=session.get_status_display(),
        elapsed_min=elapsed,
        planned_min=planned,
        next_due=min(due, key=lambda d: d.at) if due else None,
        waits_for_role=role,
        waits_for=what,
        exceptions=tuple(found),
    )


def _idle(chair: Chair, booking: Appointment | None) -> ChairTile:
    return ChairTile(chair, None, booking, "Free", None, None, None, "", "", ())


def board_for_clinic(*, actor: Actor, day: date | None = None) -> Board:
    """Today's board of the actor's clinic: rooms, chairs, live sessions, exceptions; audited."""
    actor.require(Permission.SESSION_VIEW)
    now = clock.now()
    zone = clinic_zone(actor.clinic)
    day = day or now.astimezone(zone).date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=1)
    chairs = list(Chair.objects.filter(clinic_id=actor.clinic_id).order_by("room", "label"))
    sessions = list(
        sessions_of_clinic(actor=actor)
        # every session still live, whenever it was checked in: an infusion begun before
        # midnight is still in its chair after it (and one left open is itself an exception)
        .filter(checked_in_at__lt=end, status__in=LIVE)
        .select_related("patient", "appointment__chair", "clinic")
        .order_by("checked_in_at", "id")
    )
    ids = [s.pk for s in sessions]
    entries: dict[int, list[MonitoringEntry]] = defaultdict(list)
    for entry in MonitoringEntry.objects.filter(session_id__in=ids).order_by("taken_at", "id"):
        entries[entry.session_id].append(entry)
    # the infusions and their pauses and rate changes (two queries), for the core's overrun
    administrations = {
        a.session_id: a
        for a in Administration.objects.filter(session_id__in=ids).prefetch_related(
            Prefetch("changes", queryset=InfusionChange.objects.order_by("at", "id"))
        )
    }
    orders = {
        o.session_id: o
        for o in DoseOrder.objects.filter(
            session_id__in=ids, status__in=[DoseOrderStatus.ORDERED, DoseOrderStatus.VERIFIED]
        ).order_by("ordered_at", "id")
    }
    bookings = list(
        Appointment.objects.filter(
            clinic_id=actor.clinic_id,
            kind__in=SESSION_KINDS,
            starts_at__gte=max(start, now - timedelta(hours=1)),
            starts_at__lt=end,
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED],
        )
        .select_related("patient")
        .order_by("starts_at", "id")
    )
    live = []
    for s in sessions:
        administration = administrations.get(s.pk)
        changes = list(administration.changes.all()) if administration else []
        live.append(_tile(s, entries[s.pk], orders.get(s.pk), administration, changes, now))
    by_chair = {t.chair.pk: t for t in live if t.chair is not None}
    next_booking: dict[int, Appointment] = {}
    for booking in bookings:
        if booking.chair_id is not None:
            next_booking.setdefault(booking.chair_id, booking)
    rooms: dict[str, list[ChairTile]] = defaultdict(list)
    for chair in chairs:
        rooms[chair.room].append(by_chair.get(chair.pk) or _idle(chair, next_booking.get(chair.pk)))
    unplaced = [t for t in live if t.chair is None]
    if unplaced:
        rooms["Without a chair"] = unplaced
    order = {"alarm": 0, "overrun": 1, "overdue": 2, "prescriber": 3, "clinician": 4, "nurse": 5}
    exceptions = sorted(
        ((tile, e) for tile in live for e in tile.exceptions), key=lambda te: order[te[1].kind]
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_session",
        detail={"board": day.isoformat(), "session_ids": ids},
    )
    return Board(
        day=day,
        now=now,
        rooms=[Room(name, tiles) for name, tiles in rooms.items()],
        exceptions=exceptions,
    )
