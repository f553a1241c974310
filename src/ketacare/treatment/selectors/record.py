"""The whole session for its page, and what needs the nurse now (readings due, alarms,
an overrunning infusion), as the core decides them.

The session page loads with a fixed number of queries however long the timeline grows: one per
kind of record, never one per row.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch

from ketacare.accounts.access import Actor
from ketacare.clinical.monitoring import discharge_check
from ketacare.clinical.profiles import AlarmThresholds
from ketacare.clinical.protocols import Protocol
from ketacare.clinical.timing import RateChange, infusion_progress, readings_due
from ketacare.kernel import clock
from ketacare.scheduling.selectors import clinic_zone
from ketacare.treatment import rules
from ketacare.treatment.models import (
    Administration,
    AdverseEvent,
    AdverseEventFollowUp,
    AlarmPolicy,
    Discharge,
    DoseOrder,
    DoseOrderStatus,
    EsketamineDevice,
    InfusionChange,
    MedicineGiven,
    MonitoringEntry,
    PreDoseCheck,
    SessionStatus,
    StartDecision,
    TreatmentSession,
)
from ketacare.treatment.plans import protocol_of
from ketacare.treatment.selectors.access import session_get_for_actor
from ketacare.treatment.services import unanswered_alarms

S = SessionStatus


@dataclass(frozen=True)
class DueReading:
    """When the next reading is due, and why."""

    at: datetime
    label: str
    overdue: bool


@dataclass(frozen=True)
class Attention:
    """Something the nurse must see now, at the top of the session and on Today's sessions."""

    kind: str
    message: str


@dataclass
class SessionRecord:
    """Everything recorded in one session, with what the core says about it now."""

    session: TreatmentSession
    protocol: Protocol
    now: datetime
    pre_checks: list[PreDoseCheck]
    orders: list[DoseOrder]
    administration: Administration | None
    devices: list[EsketamineDevice]
    changes: list[InfusionChange]
    entries: list[MonitoringEntry]
    adverse_events: list[AdverseEvent]
    decisions: list[StartDecision]
    discharge: Discharge | None
    sequence: int
    thresholds: AlarmThresholds | None = None
    medicines_given: list[MedicineGiven] = field(default_factory=list)
    clearance: rules.Clearance = field(init=False)

    def __post_init__(self) -> None:
        self.clearance = rules.start_clearance(
            protocol=self.protocol,
            pre_check=self.pre_check,
            entries=[e for e in self.entries if e.entered_in_error_at is None],
            decisions=self.decisions,
            thresholds=self.thresholds,
        )

    @property
    def pre_check(self) -> PreDoseCheck | None:
        """The pre-dose check in force (the latest)."""
        return self.pre_checks[-1] if self.pre_checks else None

    @property
    def order(self) -> DoseOrder | None:
        """The live order, else the latest one."""
        live = [o for o in self.orders if o.status != DoseOrderStatus.REJECTED]
        if live:
            return live[-1]
        return self.orders[-1] if self.orders else None

    @property
    def rejected_orders(self) -> list[DoseOrder]:
        """Orders sent back, oldest first."""
        return [o for o in self.orders if o.status == DoseOrderStatus.REJECTED]

    @property
    def decision(self) -> StartDecision | None:
        """The latest start decision."""
        return self.decisions[-1] if self.decisions else None

    @property
    def unanswered_alarms(self) -> list[MonitoringEntry]:
        """Readings with an alarm and no recorded action (entered in error: not counted)."""
        return unanswered_alarms(self.counted_entries)

    @property
    def counted_entries(self) -> list[MonitoringEntry]:
        """The readings that count: every one not entered in error."""
        return [e for e in self.entries if e.entered_in_error_at is None]

    @property
    def observation_ends_at(self) -> datetime | None:
        """When the protocol's minimum observation ends."""
        ended = self.session.dosing_ended_at
        if ended is None:
            return None
        return ended + timedelta(minutes=self.protocol.monitoring.observation_min)

    @property
    def observation_remaining_seconds(self) -> int | None:
        """Seconds of minimum observation left now (0 when it has passed)."""
        ends = self.observation_ends_at
        if ends is None:
            return None
        return max(0, int((ends - self.now).total_seconds()))

    @property
    def observation_remaining_minutes(self) -> int | None:
        """The core's count of observation minutes left."""
        ended = self.session.dosing_ended_at
        if ended is None or self.now < ended:
            return None
        return discharge_check(self.protocol, ended, self.now, {}).remaining_minutes

    @property
    def next_device_at(self) -> datetime | None:
        """Esketamine: the earliest time for the next device (the label's rest)."""
        order = self.order
        if not self.devices or order is None or len(self.devices) >= (order.devices or 0):
            return None
        rest = timedelta(minutes=order.rest_between_devices_min or 0)
        return self.devices[-1].administered_at + rest

    @property
    def due(self) -> list[DueReading]:
        """Readings due by the protocol: the interval during and after dosing, fixed BP times."""
        return due_readings(self.protocol, self.session, self.counted_entries, self.now)

    @property
    def attention(self) -> list[Attention]:
        """What the nurse must see first: unanswered alarms, overdue readings, an overrun."""
        return attention(
            self.protocol,
            self.session,
            self.counted_entries,
            self.administration,
            self.changes,
            self.now,
        )

    @property
    def timeline_version(self) -> str:
        """Changes when the timeline or the session changes (for polling)."""
        return timeline_fingerprint(self.session.version, self.entries)


def due_readings(
    protocol: Protocol,
    session: TreatmentSession,
    entries: Sequence[MonitoringEntry],
    now: datetime,
) -> list[DueReading]:
    """Readings the protocol asks for next, per the core: by interval while dosing or observing,
    and at fixed minutes after the dose (esketamine: blood pressure at about 40 minutes)."""
    if session.status not in (S.DOSING, S.OBSERVATION):
        return []
    return [
        DueReading(d.at, d.label, d.overdue)
        for d in readings_due(
            protocol.monitoring,
            dosing_started_at=session.dosing_started_at,
            dosing_ended_at=session.dosing_ended_at,
            discharged=False,
            readings=[rules.vital_reading(e) for e in entries],
            now=now,
        )
    ]


def attention(
    protocol: Protocol,
    session: TreatmentSession,
    entries: Sequence[MonitoringEntry],
    administration: Administration | None,
    changes: Sequence[InfusionChange],
    now: datetime,
) -> list[Attention]:
    """Unanswered alarms, overdue readings and an overrunning infusion, most urgent first."""
    zone = clinic_zone(session.clinic)
    found = [
        Attention(
            "alarm",
            f"{e.taken_at.astimezone(zone):%H:%M} " + "; ".join(a["message"] for a in e.alarms),
        )
        for e in unanswered_alarms(entries)
    ]
    found += [
        Attention("overdue", f"{d.label} overdue since {d.at.astimezone(zone):%H:%M}")
        for d in due_readings(protocol, session, entries, now)
        if d.overdue
    ]
    if (
        administration is not None
        and protocol.delivery.pausable
        and session.status == S.DOSING
        and administration.rate_ml_per_h is not None
        and administration.volume_ml is not None
    ):
        progress = infusion_progress(
            protocol.monitoring,
            started_at=administration.started_at,
            rate_ml_per_h=administration.rate_ml_per_h,
            volume_ml=administration.volume_ml,
            changes=[RateChange(str(c.kind), c.at, c.rate_ml_per_h) for c in changes],
            now=now,
        )
        if progress.overrunning and progress.expected_end_at is not None:
            found.append(
                Attention(
                    "overrun",
                    f"Infusion overrunning: it should have ended at "
                    f"{progress.expected_end_at.astimezone(zone):%H:%M} "
                    f"({progress.overrun_minutes} min ago). Check the pump and record the end.",
                )
            )
    return found


def session_record(*, actor: Actor, session_id: int) -> SessionRecord:
    """The whole session for its page: a fixed number of queries, audited as one read."""
    session = session_get_for_actor(actor=actor, session_id=session_id)
    return _record(session)


def _record(session: TreatmentSession) -> SessionRecord:
    pre_checks = list(
        PreDoseCheck.objects.filter(session=session)
        .select_related("phq9", "cssrs", "recorded_by", "vitals")
        .order_by("recorded_at", "id")
    )
    orders = list(
        DoseOrder.objects.filter(session=session)
        .select_related("ordered_by", "verified_by", "rejected_by")
        .order_by("ordered_at", "id")
    )
    administration = (
        Administration.objects.filter(session=session)
        .select_related("started_by", "stopped_by")
        .prefetch_related(
            Prefetch(
                "devices",
                queryset=EsketamineDevice.objects.select_related("recorded_by").order_by("number"),
            ),
            Prefetch(
                "changes",
                queryset=InfusionChange.objects.select_related("recorded_by").order_by("at", "id"),
            ),
        )
        .first()
    )
    entries = list(
        MonitoringEntry.objects.filter(session=session)
        .select_related("recorded_by", "action_by", "entered_in_error_by")
        .order_by("taken_at", "id")
    )
    adverse_events = list(
        AdverseEvent.objects.filter(session=session)
        .select_related("recorded_by", "entered_in_error_by")
        .prefetch_related(
            Prefetch(
                "follow_ups",
                queryset=AdverseEventFollowUp.objects.select_related("recorded_by").order_by(
                    "recorded_at", "id"
                ),
            )
        )
        .order_by("onset_at", "id")
    )
    medicines_given = list(
        MedicineGiven.objects.filter(session=session)
        .select_related("recorded_by", "entered_in_error_by")
        .order_by("given_at", "id")
    )
    decisions = list(
        StartDecision.objects.filter(session=session)
        .select_related("decided_by")
        .order_by("decided_at", "id")
    )
    discharge = (
        Discharge.objects.filter(session=session)
        .select_related("discharged_by", "override_by")
        .first()
    )
    sequence = (
        TreatmentSession.objects.filter(
            course_id=session.course_id, checked_in_at__lte=session.checked_in_at
        )
        .exclude(status=S.CANCELLED)
        .count()
    )
    protocol = protocol_of(session)
    policy = (
        AlarmPolicy.objects.filter(clinic_id=session.clinic_id)
        .order_by("-changed_at", "-id")
        .first()
    )
    return SessionRecord(
        session=session,
        protocol=protocol_of(session),
        now=clock.now(),
        pre_checks=pre_checks,
        orders=orders,
        administration=administration,
        devices=list(administration.devices.all()) if administration else [],
        changes=list(administration.changes.all()) if administration else [],
        entries=entries,
        adverse_events=adverse_events,
        decisions=decisions,
        discharge=discharge,
        sequence=sequence,
        thresholds=rules.alarm_thresholds(protocol, policy),
        medicines_given=medicines_given,
    )


def timeline_fingerprint(version: int, entries: Sequence[MonitoringEntry]) -> str:
    """A short text that changes whenever a reading, an action or the session changes."""
    actions = [e.action_at for e in entries if e.action_at is not None]
    last = max(actions).timestamp() if actions else 0
    return f"{version}.{len(entries)}.{int(last)}"
