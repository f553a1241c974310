"""Treatment protocols as data (dose rule, schedule, monitoring), and session scheduling checks."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from ketacare.clinical._data import Citation, Node, list_documents, read_document
from ketacare.clinical.dose_limits import (
    ROUTES,
    WEIGHT_BASES,
    DosingConstants,
    load_dosing_constants,
)
from ketacare.clinical.errors import DataError, InvalidInput
from ketacare.clinical.vocabulary import load_vocabulary

PROTOCOL_IDS: tuple[str, ...] = (
    "iv_induction_6x",
    "iv_booster",
    "esketamine_trd",
    "esketamine_suicidal",
    "im_titration",
    "sublingual_home",
)

OK = "ok"
TOO_SOON = "too_soon"
TOO_MANY_IN_WEEK = "too_many_in_week"
COURSE_COMPLETE = "course_complete"

DAYS_IN_WEEK = 7


# --- dose rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightBasedDose:
    """A mg/kg dose rule (IV, IM): default dose, the range that proceeds, and titration."""

    mg_per_kg: Decimal
    range_mg_per_kg: tuple[Decimal, Decimal]
    hard_stop_above_mg_per_kg: Decimal
    weight_basis: str
    duration_min: int | None
    titration_start_mg_per_kg: Decimal | None
    titration_step_mg_per_kg: Decimal | None
    citation: Citation


@dataclass(frozen=True)
class FixedStepDose:
    """A fixed-step dose rule (oral, sublingual): start, step, range, and step-up spacing."""

    start_mg: Decimal
    step_mg: Decimal
    range_mg: tuple[Decimal, Decimal]
    hard_stop_above_mg: Decimal
    step_up_min_days: int
    citation: Citation


@dataclass(frozen=True)
class DeviceDose:
    """An esketamine dose rule: label doses, the first dose, devices and rest between them."""

    allowed_mg: tuple[int, ...]
    first_dose_mg: int
    device_mg: int
    max_mg: int
    rest_between_devices_min: int
    citation: Citation


DoseRule = WeightBasedDose | FixedStepDose | DeviceDose


# --- schedule and monitoring ------------------------------------------------------------------


@dataclass(frozen=True)
class SchedulePhase:
    """Weeks (1-based from the first session; last_week None = open) and sessions per week."""

    first_week: int
    last_week: int | None
    max_per_week: int


@dataclass(frozen=True)
class Schedule:
    """Number of sessions (None = open-ended), minimum days between sessions, and phases."""

    sessions: int | None
    min_interval_days: int
    phases: tuple[SchedulePhase, ...]
    citation: Citation

    def phase_for_week(self, week: int) -> SchedulePhase | None:
        """The phase covering a 1-based week of the course, or None after the last phase."""
        for phase in self.phases:
            if phase.first_week <= week and (phase.last_week is None or week <= phase.last_week):
                return phase
        return None

    @property
    def last_week(self) -> int | None:
        """The last week of a schedule whose phases all end, else None."""
        return self.phases[-1].last_week


@dataclass(frozen=True)
class StartLimits:
    """Blood pressure before dosing: at or above `recheck` rechecks; at or above `block` blocks."""

    recheck_systolic: int
    recheck_diastolic: int
    block_systolic: int
    block_diastolic: int
    citation: Citation


@dataclass(frozen=True)
class AlarmThresholds:
    """In-session alarm thresholds (reference §3 policy defaults)."""

    bp_confirmed_systolic: int
    bp_confirmed_diastolic: int
    bp_confirm_after_min: int
    bp_once_systolic: int
    bp_once_diastolic: int
    heart_rate_above: int
    heart_rate_for_min: int
    spo2_below: int
    moaas_at_or_below: int
    citation: Citation


@dataclass(frozen=True)
class Monitoring:
    """A monitoring profile: vitals timing, observation before discharge, criteria and limits."""

    profile: str
    setting: str
    vitals_interval_min: int | None
    post_dose_vitals_interval_min: int | None
    bp_checks_after_dose_min: tuple[int, ...]
    pulse_oximetry: bool
    observation_min: int
    discharge_criteria: tuple[str, ...]
    home_requirements: tuple[str, ...]
    start_limits: StartLimits
    alarms: AlarmThresholds
    citation: Citation


@dataclass(frozen=True)
class BoosterPolicy:
    """What triggers a booster and the usual interval range between boosters."""

    trigger: str
    interval_days: tuple[int, int]
    citation: Citation


@dataclass(frozen=True)
class Protocol:
    """A treatment protocol: route, dose rule, schedule, monitoring and sources."""

    id: str
    version: str
    title: str
    route: str
    indication: str
    requires_trd: bool
    dose: DoseRule
    schedule: Schedule
    monitoring: Monitoring
    booster: BoosterPolicy | None
    preparation: tuple[str, ...]
    citation: Citation
    # The conditions (vocabulary codes) the indication covers; screening compares the diagnoses.
    indication_conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionCheck:
    """Whether a session may go ahead: ok, too_soon, too_many_in_week or course_complete."""

    allowed: bool
    code: str
    reason: str


# --- public functions -------------------------------------------------------------------------


def get_protocol(protocol_id: str) -> Protocol:
    """The protocol with this id, or InvalidInput naming the known ids."""
    protocols = load_protocols()
    if protocol_id not in protocols:
        raise InvalidInput(
            f"unknown protocol {protocol_id!r}; known: {', '.join(sorted(protocols))}",
            field="protocol_id",
        )
    return protocols[protocol_id]


@cache
def load_protocols() -> dict[str, Protocol]:
    """All packaged protocols by id, validated once."""
    constants = load_dosing_constants()
    profiles = load_monitoring_profiles()
    protocols = {}
    for name in list_documents("protocols"):
        protocol = parse_protocol(read_document(name), constants, profiles)
        if f"protocols/{protocol.id}.toml" != name:
            raise DataError(name, "id", f"id {protocol.id!r} must match the file name")
        protocols[protocol.id] = protocol
    return protocols


def check_session(
    protocol: Protocol,
    proposed: date | datetime,
    past_sessions: Sequence[date | datetime],
    *,
    sessions_in_course: int | None = None,
) -> SessionCheck:
    """Check a proposed session against the protocol and the course's other sessions, with a reason.

    Days are calendar days of the dates given (pass local dates). "In the week" means any 7
    consecutive days containing the proposed session. `sessions_in_course` may shorten the
    protocol's course (a clinic's choice), never lengthen it.
    """
    day = _as_date(proposed, "proposed")
    others = sorted(
        _as_date(past, f"past_sessions[{index}]") for index, past in enumerate(past_sessions)
    )
    schedule = protocol.schedule
    course_size = _course_size(protocol, sessions_in_course)
    if course_size is not None and len(others) >= course_size:
        return SessionCheck(
            False,
            COURSE_COMPLETE,
            f"{protocol.title}: the course of {course_size} sessions is complete "
            f"({len(others)} given); start a new course or a booster protocol",
        )
    first = min([day, *others])
    week = (day - first).days // DAYS_IN_WEEK + 1
    phase = schedule.phase_for_week(week)
    if phase is None:
        return SessionCheck(
            False,
            COURSE_COMPLETE,
            f"{protocol.title}: the schedule ends after week {schedule.last_week}; "
            f"{day.isoformat()} falls in week {week}",
        )
    nearest = min(others, key=lambda other: abs((other - day).days), default=None)
    if nearest is not None and abs((nearest - day).days) < schedule.min_interval_days:
        earliest = nearest + timedelta(days=schedule.min_interval_days)
        return SessionCheck(
            False,
            TOO_SOON,
            f"{protocol.title} needs at least {schedule.min_interval_days} days between sessions; "
            f"there is a session on {nearest.isoformat()}"
            + (f"; next allowed from {earliest.isoformat()}" if nearest <= day else ""),
        )
    busiest = _busiest_week(day, others)
    if busiest > phase.max_per_week:
        return SessionCheck(
            False,
            TOO_MANY_IN_WEEK,
            f"{protocol.title} allows at most {phase.max_per_week} sessions in any 7 days in week "
            f"{week}; {day.isoformat()} would make {busiest}",
        )
    return SessionCheck(
        True, OK, f"session {len(others) + 1} in week {week} is within the protocol"
    )


def propose_schedule(
    protocol: Protocol,
    start: date,
    open_weekdays: Collection[int],
    *,
    sessions: int | None = None,
    past_sessions: Sequence[date | datetime] = (),
) -> list[date]:
    """Propose session dates from `start` on the clinic's open weekdays (0 = Monday ... 6 = Sunday).

    Proposes the protocol's course (or `sessions`, if fewer); for open-ended protocols, to the end
    of the last phase that ends (esketamine weeks 1-8), or `sessions` when given.
    """
    first_day = _as_date(start, "start")
    weekdays = set(open_weekdays)
    if not weekdays or not weekdays <= set(range(DAYS_IN_WEEK)):
        raise InvalidInput(
            "open_weekdays must be a non-empty set of 0 (Monday) to 6", field="open_weekdays"
        )
    course_size = _course_size(protocol, sessions)
    finite_phases = [
        phase.last_week for phase in protocol.schedule.phases if phase.last_week is not None
    ]
    last_week = max(finite_phases) if finite_phases else None
    if course_size is None and last_week is None:
        raise InvalidInput(
            f"{protocol.title} is open-ended: give the number of sessions to propose",
            field="sessions",
        )
    booked = [_as_date(past, f"past_sessions[{index}]") for index, past in enumerate(past_sessions)]
    proposed: list[date] = []
    # Terminates: every 7 days hold an open weekday, and validated schedules allow at least one
    # session a week, so the course fills up or the last finite phase ends.
    day = first_day - timedelta(days=1)
    while True:
        day += timedelta(days=1)
        course_start = min([day, *booked, *proposed])
        if last_week is not None and (day - course_start).days // DAYS_IN_WEEK + 1 > last_week:
            break
        if day.weekday() not in weekdays:
            continue
        if check_session(
            protocol, day, [*booked, *proposed], sessions_in_course=course_size
        ).allowed:
            proposed.append(day)
        if course_size is not None and len(booked) + len(proposed) >= course_size:
            break
    return proposed


def _course_size(protocol: Protocol, sessions: int | None) -> int | None:
    if sessions is None:
        return protocol.schedule.sessions
    if isinstance(sessions, bool) or not isinstance(sessions, int) or sessions < 1:
        raise InvalidInput(
            f"sessions must be a positive integer, got {sessions!r}", field="sessions"
        )
    if protocol.schedule.sessions is not None and sessions > protocol.schedule.sessions:
        raise InvalidInput(
            f"{protocol.title} has {protocol.schedule.sessions} sessions; {sessions} is more",
            field="sessions",
        )
    return sessions


def _busiest_week(day: date, others: Sequence[date]) -> int:
    """The most sessions, counting `day`, in any 7 consecutive days that contain `day`."""
    counts = []
    for shift in range(DAYS_IN_WEEK):
        window_start = day - timedelta(days=shift)
        window_end = window_start + timedelta(days=DAYS_IN_WEEK - 1)
        counts.append(1 + sum(1 for other in others if window_start <= other <= window_end))
    return max(counts)


def _as_date(value: object, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise InvalidInput(f"{field} needs a date or datetime, got {value!r}", field=field)


# --- loading and validation -------------------------------------------------------------------


def parse_protocol(
    doc: Node, constants: DosingConstants, profiles: dict[str, Monitoring]
) -> Protocol:
    """Validate one protocol document against the route limits and monitoring profiles."""
    route = doc.text("route", choices=ROUTES)
    profile = doc.text("monitoring", choices=sorted(profiles))
    booster_node = doc.opt_child("booster")
    booster = None
    if booster_node is not None:
        low, high = booster_node.decimal_pair("interval_days", minimum=Decimal(1))
        booster = BoosterPolicy(
            booster_node.text("trigger", choices=("relapse_signal",)),
            (int(low), int(high)),
            booster_node.citation(),
        )
        booster_node.close()
    protocol = Protocol(
        id=doc.text("id"),
        version=doc.text("version"),
        title=doc.text("title"),
        route=route,
        indication=doc.text("indication"),
        requires_trd=doc.boolean("requires_trd"),
        dose=_parse_dose(doc.child("dose"), route, constants),
        schedule=_parse_schedule(doc.child("schedule")),
        monitoring=profiles[profile],
        booster=booster,
        preparation=doc.texts("preparation") if doc.has("preparation") else (),
        citation=doc.citation(),
        indication_conditions=_indication_conditions(doc),
    )
    doc.close()
    return protocol


def _indication_conditions(doc: Node) -> tuple[str, ...]:
    codes = doc.texts("indication_conditions")
    known = load_vocabulary().conditions
    for index, code in enumerate(codes):
        if code not in known:
            doc.fail(f"indication_conditions[{index}]", f"unknown condition {code!r}")
    return codes


def _parse_dose(node: Node, route: str, constants: DosingConstants) -> DoseRule:
    kinds = {"iv": "weight_based", "im": "weight_based", "esketamine": "device"}
    kind = node.text("kind", choices=(kinds.get(route, "fixed_step"),))
    dose: DoseRule
    if kind == "weight_based":
        limits = constants.iv if route == "iv" else constants.im
        lowered = node.opt_decimal("hard_stop_above_mg_per_kg", minimum=Decimal("0.0001"))
        hard_stop = limits.hard_stop_above_mg_per_kg if lowered is None else lowered
        if hard_stop > limits.hard_stop_above_mg_per_kg:
            node.fail(
                "hard_stop_above_mg_per_kg",
                "a protocol may lower the route's hard stop, not raise it",
            )
        low, high = node.decimal_pair("range_mg_per_kg", minimum=Decimal("0.0001"))
        if high > hard_stop:
            node.fail(
                "range_mg_per_kg", f"the range must end at or below the hard stop {hard_stop}"
            )
        default = node.decimal("mg_per_kg", minimum=low, maximum=high)
        dose = WeightBasedDose(
            mg_per_kg=default,
            range_mg_per_kg=(low, high),
            hard_stop_above_mg_per_kg=hard_stop,
            weight_basis=node.text("weight_basis", choices=WEIGHT_BASES),
            duration_min=node.opt_integer("duration_min", minimum=limits.min_duration_min or 1),
            titration_start_mg_per_kg=node.opt_decimal(
                "titration_start_mg_per_kg", minimum=low, maximum=high
            ),
            titration_step_mg_per_kg=node.opt_decimal(
                "titration_step_mg_per_kg", minimum=Decimal("0.0001")
            ),
            citation=node.citation(),
        )
        if route == "iv" and dose.duration_min is None:
            node.fail("duration_min", "an IV protocol needs an infusion duration")
    elif kind == "fixed_step":
        ceiling = constants.oral_sublingual.hard_stop_above_mg
        low, high = node.decimal_pair("range_mg", minimum=Decimal(1))
        if high > ceiling:
            node.fail("range_mg", f"the range must end at or below the hard stop {ceiling} mg")
        step = node.decimal("step_mg", minimum=Decimal(1))
        start = node.decimal("start_mg", minimum=low, maximum=high)
        if start % step or low % step:
            node.fail("start_mg", f"start and range must be whole steps of {step} mg")
        dose = FixedStepDose(
            start,
            step,
            (low, high),
            ceiling,
            node.integer("step_up_min_days", minimum=0),
            node.citation(),
        )
    else:
        device = constants.esketamine
        allowed = node.integers("allowed_mg", minimum=device.device_mg)
        for value in allowed:
            if value % device.device_mg or value > device.max_mg:
                node.fail(
                    "allowed_mg",
                    f"{value} mg is not whole {device.device_mg} mg devices up to {device.max_mg} "
                    "mg",
                )
        dose = DeviceDose(
            allowed_mg=allowed,
            first_dose_mg=node.integer("first_dose_mg", minimum=min(allowed), maximum=max(allowed)),
            device_mg=device.device_mg,
            max_mg=device.max_mg,
            rest_between_devices_min=device.rest_between_devices_min,
            citation=node.citation(),
        )
    node.close()
    return dose


def _parse_schedule(node: Node) -> Schedule:
    phases = []
    next_week = 1
    for phase_node in node.children("phases"):
        first = phase_node.integer("first_week", minimum=next_week, maximum=next_week)
        last = phase_node.opt_integer("last_week", minimum=first)
        phases.append(
            SchedulePhase(first, last, phase_node.integer("max_per_week", minimum=1, maximum=7))
        )
        phase_node.close()
        if last is None:
            break
        next_week = last + 1
    if len(phases) != len(node.raw["phases"]):
        node.fail("phases", "an open-ended phase (no last_week) must be the last phase")
    schedule = Schedule(
        sessions=node.opt_integer("sessions", minimum=1),
        min_interval_days=node.integer("min_interval_days", minimum=1),
        phases=tuple(phases),
        citation=node.citation(),
    )
    node.close()
    return schedule


def parse_monitoring_profiles(doc: Node) -> dict[str, Monitoring]:
    """Validate the monitoring document into profiles (each with the shared limits and alarms)."""
    start = doc.child("start_limits")
    start_limits = StartLimits(
        start.integer("recheck_systolic_at_or_above", minimum=1),
        start.integer("recheck_diastolic_at_or_above", minimum=1),
        start.integer("block_systolic_at_or_above", minimum=1),
        start.integer("block_diastolic_at_or_above", minimum=1),
        start.citation(),
    )
    if (
        start_limits.block_systolic <= start_limits.recheck_systolic
        or start_limits.block_diastolic <= start_limits.recheck_diastolic
    ):
        start.fail("block_systolic_at_or_above", "block limits must be above recheck limits")
    node = doc.child("alarms")
    alarms = AlarmThresholds(
        bp_confirmed_systolic=node.integer("bp_confirmed_systolic_at_or_above", minimum=1),
        bp_confirmed_diastolic=node.integer("bp_confirmed_diastolic_at_or_above", minimum=1),
        bp_confirm_after_min=node.integer("bp_confirm_after_min", minimum=0),
        bp_once_systolic=node.integer("bp_once_systolic_at_or_above", minimum=1),
        bp_once_diastolic=node.integer("bp_once_diastolic_at_or_above", minimum=1),
        heart_rate_above=node.integer("heart_rate_above", minimum=1),
        heart_rate_for_min=node.integer("heart_rate_for_min", minimum=0),
        spo2_below=node.integer("spo2_below", minimum=1, maximum=100),
        moaas_at_or_below=node.integer("moaas_at_or_below", minimum=0, maximum=5),
        citation=node.citation(),
    )
    profiles = {}
    for name, profile in doc.table_items("profiles"):
        profiles[name] = Monitoring(
            profile=name,
            setting=profile.text("setting", choices=("clinic", "home")),
            vitals_interval_min=profile.opt_integer("vitals_interval_min", minimum=1),
            post_dose_vitals_interval_min=profile.opt_integer(
                "post_dose_vitals_interval_min", minimum=1
            ),
            bp_checks_after_dose_min=(
                profile.integers("bp_checks_after_dose_min", minimum=0)
                if profile.has("bp_checks_after_dose_min")
                else ()
            ),
            pulse_oximetry=profile.boolean("pulse_oximetry"),
            observation_min=profile.integer("observation_min", minimum=0),
            discharge_criteria=profile.texts("discharge_criteria"),
            home_requirements=(
                profile.texts("home_requirements") if profile.has("home_requirements") else ()
            ),
            start_limits=start_limits,
            alarms=alarms,
            citation=profile.citation(),
        )
        profile.close()
    for finished in (start, node, doc):
        finished.close()
    return profiles


@cache
def load_monitoring_profiles() -> dict[str, Monitoring]:
    """The monitoring profiles, validated once."""
    return parse_monitoring_profiles(read_document("monitoring.toml"))
