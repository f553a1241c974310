"""Reads of treatment sessions, scoped to the actor's clinic and audited.

The session page loads with a fixed number of queries however long the timeline grows: one per
kind of record, never one per row.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Prefetch, QuerySet
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.dosing import DosePlan
from ketacare.clinical.eligibility import IntakeFacts, screen
from ketacare.clinical.instruments import get_instrument
from ketacare.clinical.monitoring import discharge_check
from ketacare.clinical.profiles import AlarmThresholds
from ketacare.clinical.protocols import Protocol
from ketacare.clinical.timing import RateChange, infusion_progress, reading_near, readings_due
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.patients.models import BodyMeasurement, ChartSection, Patient
from ketacare.patients.sections import AllergiesData
from ketacare.patients.selectors import intake_facts_for, measurements_of
from ketacare.scheduling.models import Appointment, AppointmentStatus
from ketacare.scheduling.selectors import SESSION_KINDS, clinic_zone, local_date
from ketacare.screening.selectors import screening_current_for
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
    MonitoringPhase,
    PreDoseCheck,
    SessionStatus,
    StartDecision,
    TreatmentSession,
)
from ketacare.treatment.plans import compute_plan, is_first_treatment, protocol_of
from ketacare.treatment.services import unanswered_alarms

S = SessionStatus

# Display only: which reading the page and the REMS record call "the 40-minute reading" when the
# label says "about 40 minutes". It gates nothing.
ABOUT = timedelta(minutes=10)
# Medicine classes the REMS patient monitoring form asks about (eligibility rule ids of the core).
REMS_MEDICINE_RULES = {
    "benzodiazepines": "Benzodiazepines",
    "sedative_hypnotics": "Other sedative-hypnotics",
    "psychostimulants": "Psychostimulants",
    "maois": "MAOIs",
    "opioids": "Opioids",
}


def sessions_of_clinic(*, actor: Actor) -> QuerySet[TreatmentSession]:
    """Every query for sessions starts here: the actor's clinic only."""
    return TreatmentSession.objects.filter(clinic_id=actor.clinic_id)


def session_get_for_actor(
    *,
    actor: Actor,
    session_id: int,
    permission: Permission = Permission.SESSION_VIEW,
    audit: bool = True,
) -> TreatmentSession:
    """One session of the actor's clinic with patient and course; another clinic's is 404."""
    actor.require(permission)
    session = (
        sessions_of_clinic(actor=actor)
        .select_related("clinic", "patient", "course", "appointment__chair", "checked_in_by")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise Http404("Session not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="treatment_session",
            object_id=session.pk,
            patient_id=session.patient_id,
        )
    return session


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


@dataclass(frozen=True)
class Timeline:
    """The monitoring timeline of a session, for the polled fragment."""

    session: TreatmentSession
    protocol: Protocol
    entries: list[MonitoringEntry]
    now: datetime

    @property
    def due(self) -> list[DueReading]:
        """Readings due next (readings entered in error do not count)."""
        counted = [e for e in self.entries if e.entered_in_error_at is None]
        return due_readings(self.protocol, self.session, counted, self.now)

    @property
    def unanswered_alarms(self) -> list[MonitoringEntry]:
        """Readings with an alarm and no recorded action (entered in error: not counted)."""
        return unanswered_alarms([e for e in self.entries if e.entered_in_error_at is None])

    @property
    def timeline_version(self) -> str:
        """Changes when the timeline or the session changes (for polling)."""
        return timeline_fingerprint(self.session.version, self.entries)


def timeline_fingerprint(version: int, entries: Sequence[MonitoringEntry]) -> str:
    """A short text that changes whenever a reading, an action or the session changes."""
    actions = [e.action_at for e in entries if e.action_at is not None]
    last = max(actions).timestamp() if actions else 0
    return f"{version}.{len(entries)}.{int(last)}"


def session_timeline_version(*, actor: Actor, session_id: int) -> str:
    """The timeline's fingerprint only (no patient data, so not audited): for polling."""
    actor.require(Permission.SESSION_VIEW)
    version = (
        sessions_of_clinic(actor=actor).filter(pk=session_id).values_list("version", flat=True)
    ).first()
    if version is None:
        raise Http404("Session not found.")
    summary = MonitoringEntry.objects.filter(session_id=session_id).aggregate(
        count=Count("id"), last_action=Max("action_at")
    )
    last = summary["last_action"].timestamp() if summary["last_action"] else 0
    return f"{version}.{summary['count']}.{int(last)}"


def session_timeline(*, actor: Actor, session_id: int) -> Timeline:
    """The session's readings in time order, with who recorded them; audited."""
    session = session_get_for_actor(actor=actor, session_id=session_id)
    entries = list(
        MonitoringEntry.objects.filter(session=session)
        .select_related("recorded_by", "action_by")
        .order_by("taken_at", "id")
    )
    return Timeline(session, protocol_of(session), entries, clock.now())


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
    sessions = list(
        sessions_of_clinic(actor=actor)
        .filter(checked_in_at__gte=start, checked_in_at__lt=end)
        .select_related("clinic", "patient", "course", "appointment__chair", "checked_in_by")
        .order_by("checked_in_at", "id")
    )
    waiting = _attention_of_open(sessions)
    by_appointment = {s.appointment_id: s for s in sessions if s.appointment_id}
    rows = []
    for appointment in appointments:
        session = by_appointment.get(appointment.pk)
        rows.append(DayRow(appointment, session, waiting.get(session.pk, ()) if session else ()))
    rows += [DayRow(None, s, waiting.get(s.pk, ())) for s in sessions if s.appointment_id is None]
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


def today(*, actor: Actor) -> date:
    """Today in the clinic's time zone."""
    return local_date(clock.now(), clinic_zone(actor.clinic))


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


def dose_plan_preview(*, actor: Actor, session_id: int, inputs: dict[str, Any]) -> DosePlan:
    """What the core would order with these inputs, before the prescriber signs (not saved)."""
    session = session_get_for_actor(
        actor=actor, session_id=session_id, permission=Permission.DOSE_ORDER, audit=False
    )
    pre_check = PreDoseCheck.objects.filter(session=session).order_by("-recorded_at", "-id").first()
    if pre_check is None:
        raise Refused("Record the pre-dose checks first.", field="status", code="no_pre_check")
    override = inputs.pop("override_reason", None) or None
    return compute_plan(
        session=session,
        pre_check=pre_check,
        inputs=inputs,
        override_reason=override,
        today=today(actor=actor),
    )


# --- the REMS patient monitoring record ----------------------------------------------------------


@dataclass(frozen=True)
class RemsRecord:
    """What the SPRAVATO REMS patient monitoring form asks, from the session's record."""

    record: SessionRecord
    first_treatment: bool
    medicines: list[str]
    medicine_classes: list[str]
    monitoring_clinician: str
    setting: str
    dose_mg: str
    lot: str
    first_device_at: datetime | None
    monitoring_minutes: int | None
    ready_minutes: int | None
    bp_before: MonitoringEntry | None
    bp_at_40: MonitoringEntry | None
    bp_before_discharge: MonitoringEntry | None
    vitals_acceptable_before_dosing: bool
    vitals_acceptable_before_discharge: bool | None
    sedation: bool
    dissociation: bool
    respiratory_depression: bool

    @property
    def adverse_events(self) -> list[AdverseEvent]:
        """The session's adverse events."""
        return self.record.adverse_events

    @property
    def window_minutes(self) -> int:
        """How far from 40 minutes a reading may be and still be "BP at 40 minutes"."""
        return self.record.protocol.monitoring.timeliness.fixed_check_window_min

    @property
    def discharge_window_minutes(self) -> int:
        """How long before discharge a reading may be and still be "BP before discharge"."""
        return 2 * self.window_minutes


def _chart_medicines(patient: Patient, route: str) -> list[str]:
    """The chart's current medicines, else those the current screening saw."""
    chart = intake_facts_for(patient=patient).medicines
    if chart:
        return [str(m) for m in chart]
    screening = screening_current_for(patient=patient, route=route)
    return [str(m) for m in (screening.facts.get("medicines") or [])] if screening else []


def rems_record(*, actor: Actor, session_id: int) -> RemsRecord:
    """The REMS monitoring record of an esketamine session (422 for other routes)."""
    record = session_record(actor=actor, session_id=session_id)
    session = record.session
    if not record.protocol.delivery.rems:
        raise Refused(
            "The REMS monitoring record is for esketamine sessions.",
            field="session_id",
            code="not_esketamine",
        )
    medicines = _chart_medicines(session.patient, session.route)
    classes: list[str] = []
    if medicines:
        result = screen(IntakeFacts(medicines=medicines), protocol=record.protocol)
        fired = {rule.rule_id for rule in result.fired}
        classes = [label for rule_id, label in REMS_MEDICINE_RULES.items() if rule_id in fired]
    first_device = record.devices[0].administered_at if record.devices else None
    discharge = record.discharge
    monitoring_minutes = ready_minutes = None
    if first_device is not None and discharge is not None:
        monitoring_minutes = int((discharge.discharged_at - first_device).total_seconds() // 60)
        if discharge.ready_at is not None:
            ready_minutes = int((discharge.ready_at - first_device).total_seconds() // 60)
    with_bp = [e for e in record.counted_entries if e.systolic is not None]
    before = [e for e in with_bp if e.phase == MonitoringPhase.PRE_DOSE]
    after = [e for e in with_bp if e.phase != MonitoringPhase.PRE_DOSE]
    # The core picks each reading: nearest the fixed check within its window, else missing (a
    # 5-minute reading is never "BP at 40 minutes"); before discharge, the last BP within the
    # twice that window before it (policy: a reading from the end of the observation).
    at_40 = before_discharge = None
    monitoring = record.protocol.monitoring
    window = monitoring.timeliness.fixed_check_window_min
    readings = [(rules.vital_reading(e), e) for e in after]
    if first_device is not None and monitoring.bp_checks_after_dose_min:
        target = first_device + timedelta(minutes=monitoring.bp_checks_after_dose_min[0])
        near = reading_near([r for r, _ in readings], target, window)
        at_40 = next((e for r, e in readings if r is near), None)
    if discharge is not None:
        near = reading_near(
            [r for r, _ in readings if r.taken_at <= discharge.discharged_at],
            discharge.discharged_at,
            2 * window,
        )
        before_discharge = next((e for r, e in readings if r is near), None)
        if before_discharge is not None and before_discharge is at_40:
            before_discharge = None
    order = record.order
    administration = record.administration
    fully_alert = get_instrument("moaas").max_total
    return RemsRecord(
        record=record,
        first_treatment=is_first_treatment(session),
        medicines=medicines,
        medicine_classes=classes,
        monitoring_clinician=(
            discharge.discharged_by.display_name()
            if discharge is not None
            else (administration.started_by.display_name() if administration else "")
        ),
        setting=session.clinic.name,
        dose_mg=str(order.dose_mg.normalize()) if order else "",
        lot=administration.lot if administration else "",
        first_device_at=first_device,
        monitoring_minutes=monitoring_minutes,
        ready_minutes=ready_minutes,
        bp_before=before[-1] if before else None,
        bp_at_40=at_40,
        bp_before_discharge=before_discharge,
        vitals_acceptable_before_dosing=record.clearance.vitals_acceptable,
        vitals_acceptable_before_discharge=(
            discharge.criteria.get("vitals_acceptable") if discharge is not None else None
        ),
        sedation=any(e.moaas is not None and e.moaas < fully_alert for e in record.entries),
        dissociation=any(e.dissociation not in ("", "none") for e in record.entries),
        respiratory_depression=any(
            e.respiratory_depression or any(a["code"] == "spo2_low" for a in e.alarms)
            for e in record.entries
        ),
    )


def local_day(moment: datetime, clinic: Any) -> date:
    """The clinic-local calendar day of a moment."""
    return local_date(moment, clinic_zone(clinic))


@dataclass(frozen=True)
class DosingContext:
    """What the prescriber and the nurse see beside the dose: allergies, weights, last dose."""

    allergies: AllergiesData | None
    weights: list[BodyMeasurement]
    previous_order: DoseOrder | None


def dosing_context(session: TreatmentSession) -> DosingContext:
    """The chart's allergies, the recent weights and the course's previous dose (three queries)."""
    section = ChartSection.objects.filter(
        clinic_id=session.clinic_id, patient_id=session.patient_id, section="allergies"
    ).first()
    weights = [
        m for m in measurements_of(patient=session.patient, limit=6) if m.weight_kg is not None
    ]
    previous = (
        DoseOrder.objects.filter(
            clinic_id=session.clinic_id,
            session__course_id=session.course_id,
            status=DoseOrderStatus.VERIFIED,
            session__dosing_started_at__isnull=False,
        )
        .exclude(session_id=session.pk)
        .select_related("session")
        .order_by("-session__dosing_started_at", "-id")
        .first()
    )
    return DosingContext(
        allergies=AllergiesData.model_validate(section.data) if section is not None else None,
        weights=weights,
        previous_order=previous,
    )


def recent_discharge_of(*, patient: Patient, within: timedelta) -> TreatmentSession | None:
    """The patient's most recent discharged session within `within` of now (for aftercare)."""
    return (
        TreatmentSession.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            status=S.DISCHARGED,
            discharged_at__gte=clock.now() - within,
        )
        .order_by("-discharged_at")
        .first()
    )
