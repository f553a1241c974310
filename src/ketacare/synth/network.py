"""A deterministic synthetic clinic network: clinics, staff, chairs, and years of patients.

Each patient arrives on a day of the network's history, is screened and consents, has an
induction course booked into real chair time on the clinic's open days, checks in for the
sessions that have happened (vital-sign readings, a PHQ-9 before each), is followed up after
the course by the clinic's questionnaire policy (some answered, some missed, some open now),
and, when the scores relapse, may start a booster course. Scores, bands and alerts come from the
clinical core; rows go into the models' own tables with their constraints (`bulk.TableWriter`).
The same seed, size and day give the same network.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction

from ketacare.accounts.models import Clinic, Membership, User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.clinical.instruments import get_instrument, score
from ketacare.clinical.outcomes import ALERT_DETERIORATION, deterioration
from ketacare.clinical.protocols import Protocol, get_protocol
from ketacare.consent.models import ConsentDocument, ConsentDocumentVersion, ConsentSignature
from ketacare.followup.policy import DAYS_PER_MONTH, DAYS_PER_WEEK, DEFAULT_POLICY
from ketacare.followup.summaries import outcome_summaries_catch_up_all
from ketacare.outcomes.models import QuestionnaireAssignment, SafetyAlert, ScaleResponse
from ketacare.outcomes.services import alert_severity
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Appointment, Chair, ClinicSchedule, Course
from ketacare.scheduling.selectors import protocol_session_minutes
from ketacare.screening.models import Screening
from ketacare.synth.audit_trail import AuditStream
from ketacare.synth.bulk import TableWriter, analyze, db_datetime, db_json, reset_sequences
from ketacare.synth.bulk import tune_for_bulk as _tune
from ketacare.synth.names import FAMILY_NAMES, GIVEN_NAMES
from ketacare.treatment.models import MonitoringEntry, TreatmentSession

SYNTH_PASSWORD = "ketacare-synth"  # noqa: S105 - synthetic staff only, printed by the command
TIME_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
STAFF = ((Role.ADMIN, 1), (Role.PRESCRIBER, 3), (Role.NURSE, 6), (Role.THERAPIST, 2))
STAFF_FRONT_DESK = 2
PATIENTS_PER_BATCH = 1000
SLOT_MINUTES = 30
RECENT_SHARE = 0.05
OPENS, CLOSES = 8 * 60, 18 * 60
# Follow-up after a course, from the clinic's questionnaire policy (weekly, then monthly).
FOLLOW_UP_DAYS = tuple(
    [DAYS_PER_WEEK * (k + 1) for k in range(DEFAULT_POLICY.after_course_weekly_count)]
    + [
        DAYS_PER_WEEK * DEFAULT_POLICY.after_course_weekly_count + DAYS_PER_MONTH * (k + 1)
        for k in range(DEFAULT_POLICY.after_course_monthly_count)
    ]
)


@dataclass(frozen=True)
class NetworkSpec:
    """What to build: how many patients over how many clinics, from which seed, up to which day."""

    patients: int
    clinics: int = 5
    seed: int = 16
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    history_days: int = 3 * 365
    audit_per_patient: int = 70
    slug_prefix: str = "synth"


@dataclass
class NetworkReport:
    """What was built and how long it took."""

    clinics: list[tuple[str, int]]
    rows: dict[str, int]
    seconds: float
    password: str = SYNTH_PASSWORD


@dataclass
class _Clinic:
    clinic: Clinic
    tz: ZoneInfo
    staff: dict[Role, list[User]]
    chairs: list[int]
    versions: dict[str, tuple[int, str]]  # route -> (version id, body hash)
    free: dict[date, list[int]] = field(default_factory=dict)
    arrivals: list[tuple[datetime, int]] = field(default_factory=list)
    number: int = 1

    def book(self, day: date, minutes: int) -> tuple[date, int, int]:
        """The first chair free for `minutes` on `day` or the next open day: (day, chair, start)."""
        needed = -(-minutes // SLOT_MINUTES) * SLOT_MINUTES
        while True:
            if day.weekday() < 5:
                chairs = self.free.setdefault(day, [OPENS] * len(self.chairs))
                best = min(range(len(chairs)), key=chairs.__getitem__)
                if chairs[best] + needed <= CLOSES:
                    start = chairs[best]
                    chairs[best] += needed
                    return day, self.chairs[best], start
            day += timedelta(days=1)

    def at(self, day: date, minute: int) -> datetime:
        local = datetime.combine(day, clock_time(minute // 60, minute % 60), tzinfo=self.tz)
        return local.astimezone(UTC)


class _Writers:
    def __init__(self) -> None:
        self.patient = TableWriter(
            Patient,
            ["id", "clinic_id", "mrn", "given_name", "family_name", "date_of_birth", "sex"]
            + ["email", "phone", "created_at", "updated_at", "intake_status"],
        )
        self.screening = TableWriter(
            Screening,
            ["id", "clinic_id", "patient_id", "protocol_id", "protocol_version", "route", "status"]
            + ["run_by_id", "run_at", "signed_by_id", "signed_at"],
        )
        self.consent = TableWriter(
            ConsentSignature,
            ["id", "clinic_id", "patient_id", "document_version_id", "signed_name", "signed_at"]
            + ["body_sha256", "witnessed_by_id", "recorded_by_id", "recorded_at"],
        )
        self.course = TableWriter(
            Course,
            ["id", "clinic_id", "patient_id", "protocol_id", "protocol_version", "route", "kind"]
            + ["status", "parent_id", "screening_id", "consent_id", "planned_sessions"]
            + ["started_on", "created_by_id", "created_at", "ended_at", "end_reason"],
        )
        self.appointment = TableWriter(
            Appointment,
            ["id", "clinic_id", "patient_id", "course_id", "chair_id", "kind", "starts_at"]
            + ["ends_at", "status", "created_by_id", "created_at"],
        )
        self.session = TableWriter(
            TreatmentSession,
            ["id", "clinic_id", "patient_id", "course_id", "appointment_id", "protocol_id"]
            + ["protocol_version", "route", "status", "created_by_id", "created_at"]
            + ["checked_in_by_id", "checked_in_at", "dosing_started_at", "dosing_ended_at"]
            + ["discharged_at"],
        )
        self.reading = TableWriter(
            MonitoringEntry,
            ["id", "clinic_id", "session_id", "phase", "taken_at", "systolic", "diastolic"]
            + ["heart_rate", "spo2", "moaas", "dissociation", "recorded_by_id", "recorded_at"],
        )
        self.response = TableWriter(
            ScaleResponse,
            ["id", "clinic_id", "patient_id", "instrument_id", "answers", "total", "band"]
            + ["alerts", "source", "recorded_at", "entered_by_id"],
        )
        self.assignment = TableWriter(
            QuestionnaireAssignment,
            ["id", "clinic_id", "patient_id", "instrument_id", "trigger", "slot", "course_id"]
            + ["opens_at", "due_by", "status", "completed_at", "response_id", "created_at"],
        )
        self.alert = TableWriter(
            SafetyAlert,
            ["id", "clinic_id", "patient_id", "code", "severity", "meaning", "response_id"]
            + ["evidence", "status", "raised_at", "acknowledged_by_id", "acknowledged_at"]
            + ["resolved_by_id", "resolved_at", "resolution_note"],
        )

    def all(self) -> list[TableWriter]:
        return [w for w in vars(self).values() if isinstance(w, TableWriter)]

    def flush(self) -> None:
        for writer in self.all():
            writer.flush()


class _Scores:
    """PHQ-9 answers for a total, scored once by the core and remembered."""

    def __init__(self) -> None:
        self.instrument = get_instrument("phq9")
        self.cache: dict[tuple[int, int], tuple[str, int, str, str]] = {}

    def phq9(self, total: int, item9: int) -> tuple[str, int, str, str]:
        total = max(item9, min(27, total))
        key = (total, item9)
        if key not in self.cache:
            answers = [0] * 9
            answers[8] = item9
            left = total - item9
            for i in range(8):
                answers[i] = min(3, left // (8 - i) + (1 if left % (8 - i) else 0))
                left -= answers[i]
            result = score("phq9", answers)
            self.cache[key] = (
                db_json(list(result.item_scores)),
                result.total,
                result.band,
                db_json(list(result.alerts)),
            )
        return self.cache[key]


def build_network(spec: NetworkSpec, progress: Callable[[str], None] = print) -> NetworkReport:
    """Generate the network described by `spec` into the configured database."""
    started = time.perf_counter()
    if Clinic.objects.filter(slug__startswith=f"{spec.slug_prefix}-").exists():
        raise ValueError(f"clinics named {spec.slug_prefix}-* exist already; use a fresh database")
    _tune()
    rng = random.Random(spec.seed)  # noqa: S311 - synthetic data, not security
    now = datetime.combine(spec.today, clock_time(12, 0), tzinfo=UTC)
    sizes = [spec.patients // spec.clinics] * spec.clinics
    sizes[0] += spec.patients - sum(sizes)
    writers = _Writers()
    scores = _Scores()
    password = make_password(SYNTH_PASSWORD)
    report = NetworkReport(clinics=[], rows={}, seconds=0.0)
    audit_rows = 0
    for index, size in enumerate(sizes):
        with transaction.atomic():
            ctx = _clinic_setup(spec, index, size, password)
        report.clinics.append((ctx.clinic.slug, size))
        for first in range(0, size, PATIENTS_PER_BATCH):
            with transaction.atomic():
                for n in range(first, min(size, first + PATIENTS_PER_BATCH)):
                    _patient(ctx, writers, scores, rng, n, spec, now)
                writers.flush()
        with transaction.atomic():
            audit_rows += AuditStream(ctx.clinic, ctx.staff, rng).write(
                ctx.arrivals, size * spec.audit_per_patient, now
            )
        progress(
            f"  clinic {ctx.clinic.slug}: {size} patients ({time.perf_counter() - started:.0f} s)"
        )
    reset_sequences([*(w.model for w in writers.all()), AuditEntry])
    progress(f"  outcome summaries ({time.perf_counter() - started:.0f} s)")
    outcome_summaries_catch_up_all(overlap=False)
    analyze()
    report.rows = {w.table: w.written for w in writers.all()}
    report.rows["audit_auditentry"] = audit_rows
    report.seconds = time.perf_counter() - started
    return report


def _clinic_setup(spec: NetworkSpec, index: int, size: int, password: str) -> _Clinic:
    slug = f"{spec.slug_prefix}-{index + 1}"
    tz_name = TIME_ZONES[index % len(TIME_ZONES)]
    clinic = Clinic.objects.create(
        slug=slug, name=f"Synthetic Clinic {index + 1}", time_zone=tz_name
    )
    ClinicSchedule.objects.create(clinic=clinic)
    staff: dict[Role, list[User]] = {}
    for role, count in (*STAFF, (Role.FRONT_DESK, STAFF_FRONT_DESK)):
        users = [
            User(
                username=f"{slug}.{role.value.replace('_', '')}{n}",
                password=password,
                first_name=role.label.split()[-1],
                last_name=str(n),
                email=f"{role.value}{n}@{slug}.example",
            )
            for n in range(1, count + 1)
        ]
        staff[role] = User.objects.bulk_create(users)
        Membership.objects.bulk_create(
            [Membership(user=u, clinic=clinic, role=role) for u in staff[role]]
        )
    # Enough chairs for the busiest day: about seven sessions per patient over the history.
    per_day = size * 8 / (spec.history_days * 5 / 7)
    chair_count = max(4, int(per_day / 4) + 2)
    chairs = Chair.objects.bulk_create(
        [
            Chair(clinic=clinic, room=f"Room {n // 6 + 1}", label=f"Chair {n % 6 + 1}")
            for n in range(chair_count)
        ]
    )
    admin = staff[Role.ADMIN][0]
    versions: dict[str, tuple[int, str]] = {}
    published = datetime.combine(
        spec.today - timedelta(days=spec.history_days + 30), clock_time(12), tzinfo=UTC
    )
    for route in ("iv", "esketamine"):
        document = ConsentDocument.objects.create(
            clinic=clinic, route=route, title=f"{route.upper()} treatment consent"
        )
        body = f"Synthetic consent text for {route} treatment at {clinic.name}."
        digest = hashlib.sha256(body.encode()).hexdigest()
        version = ConsentDocumentVersion.objects.create(
            clinic=clinic,
            document=document,
            number=1,
            title=document.title,
            body=body,
            body_sha256=digest,
            published_at=published,
            published_by=admin,
        )
        versions[route] = (version.pk, digest)
    return _Clinic(
        clinic=clinic,
        tz=ZoneInfo(tz_name),
        staff=staff,
        chairs=[c.pk for c in chairs],
        versions=versions,
        number=index + 1,
    )


def _next_open(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _patient(
    ctx: _Clinic,
    w: _Writers,
    scores: _Scores,
    rng: random.Random,
    n: int,
    spec: NetworkSpec,
    now: datetime,
) -> None:
    clinic_id = ctx.clinic.pk
    prescriber = rng.choice(ctx.staff[Role.PRESCRIBER]).pk
    nurse = rng.choice(ctx.staff[Role.NURSE]).pk
    desk = rng.choice(ctx.staff[Role.FRONT_DESK]).pk
    # A clinic always has patients starting now, whatever its history's length.
    recent = rng.random() < RECENT_SHARE
    arrive = spec.today - timedelta(days=rng.randint(1, 30 if recent else spec.history_days))
    created = ctx.at(_next_open(arrive), 9 * 60 + rng.randint(0, 480))
    given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
    patient_id = w.patient.new_id()
    w.patient.add(
        patient_id,
        clinic_id,
        f"S{ctx.number}-{n + 1:06d}",
        given,
        family,
        str(date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))),
        rng.choice(("female", "male", "female", "male", "unknown")),
        f"{given.lower()}.{family.lower()}.{patient_id}@patients.example",
        f"555-{rng.randint(1000, 9999)}",
        db_datetime(created),
        db_datetime(created),
        "complete",
    )
    ctx.arrivals.append((created, patient_id))
    protocol = get_protocol("iv_induction_6x" if rng.random() < 0.75 else "esketamine_trd")
    sessions = protocol.schedule.sessions or 8
    screened = created + timedelta(days=1)
    screening_id = w.screening.new_id()
    w.screening.add(
        screening_id,
        clinic_id,
        patient_id,
        protocol.id,
        protocol.version,
        protocol.route,
        "eligible",
        prescriber,
        db_datetime(screened),
        prescriber,
        db_datetime(screened),
    )
    consent_id = w.consent.new_id()
    version_id, body_hash = ctx.versions[protocol.route]
    signed = screened + timedelta(hours=1)
    w.consent.add(
        consent_id,
        clinic_id,
        patient_id,
        version_id,
        f"{given} {family}",
        db_datetime(signed),
        body_hash,
        nurse,
        nurse,
        db_datetime(signed),
    )
    baseline = rng.randint(14, 26)
    kind = rng.random()
    final = (
        rng.randint(1, 4)
        if kind < 0.4
        else int(baseline * 0.4)
        if kind < 0.6
        else int(baseline * 0.65)
        if kind < 0.75
        else int(baseline * 0.9)
    )
    course = _Course(ctx, w, scores, rng, patient_id, (prescriber, nurse, desk), now)
    start = _next_open(arrive + timedelta(days=rng.randint(3, 10)))
    totals = [
        round(baseline + (final - baseline) * i / (sessions - 1)) + rng.randint(-2, 2)
        for i in range(sessions)
    ]
    induction_id, last_day, done = course.run(
        protocol, "induction", None, screening_id, consent_id, start, totals
    )
    if not done:
        return
    relapse_at = rng.randint(3, 8) if kind < 0.6 and rng.random() < 0.3 else None
    relapse_day = course.follow_up(induction_id, last_day, final, baseline, relapse_at)
    if relapse_day is not None and rng.random() < 0.6:
        booster = get_protocol("iv_booster")
        course.run(
            booster,
            "booster",
            induction_id,
            screening_id,
            consent_id,
            _next_open(relapse_day + timedelta(days=rng.randint(7, 21))),
            [int(baseline * 0.6) - 2 * i for i in range(rng.randint(1, 3))],
        )


class _Course:
    """One patient's courses, sessions, readings and questionnaires."""

    def __init__(
        self,
        ctx: _Clinic,
        w: _Writers,
        scores: _Scores,
        rng: random.Random,
        patient_id: int,
        staff: tuple[int, int, int],
        now: datetime,
    ) -> None:
        self.ctx, self.w, self.scores, self.rng = ctx, w, scores, rng
        self.patient_id = patient_id
        self.prescriber, self.nurse, self.desk = staff
        self.now = now
        self.previous_total: int | None = None

    def run(
        self,
        protocol: Protocol,
        kind: str,
        parent: int | None,
        screening_id: int,
        consent_id: int,
        start: date,
        totals: list[int],
    ) -> tuple[int, date, bool]:
        """Book the sessions from `start`, holding those already past: (id, last day, done)."""
        w, ctx = self.w, self.ctx
        course_id = w.course.new_id()
        minutes = protocol_session_minutes(protocol)
        interval = max(protocol.schedule.min_interval_days, 2)
        day, last_end = start, None
        booked_at = db_datetime(ctx.at(_next_open(start - timedelta(days=2)), 10 * 60))
        past = 0
        for total in totals:
            day, chair, minute = ctx.book(day, minutes)
            starts = ctx.at(day, minute)
            ends = starts + timedelta(minutes=minutes)
            appointment_id = w.appointment.new_id()
            held = ends < self.now
            w.appointment.add(
                appointment_id,
                ctx.clinic.pk,
                self.patient_id,
                course_id,
                chair,
                "booster" if kind == "booster" else "treatment",
                db_datetime(starts),
                db_datetime(ends),
                "completed" if held else "booked",
                self.desk,
                booked_at,
            )
            if held:
                past += 1
                self._session(protocol, course_id, appointment_id, starts, minutes, total)
                last_end = ends
            day = _next_open(day + timedelta(days=interval))
        done = past == len(totals)
        w.course.add(
            course_id,
            ctx.clinic.pk,
            self.patient_id,
            protocol.id,
            protocol.version,
            protocol.route,
            kind,
            "completed" if done else "active",
            parent,
            screening_id,
            consent_id,
            len(totals),
            str(start),
            self.prescriber,
            booked_at,
            db_datetime(last_end) if done and last_end else None,
            "Course complete." if done else "",
        )
        return course_id, day, done

    def _session(
        self,
        protocol: Protocol,
        course_id: int,
        appointment_id: int,
        starts: datetime,
        minutes: int,
        total: int,
    ) -> None:
        w, rng, clinic_id = self.w, self.rng, self.ctx.clinic.pk
        session_id = w.session.new_id()
        dosing = starts + timedelta(minutes=20)
        dosed = dosing + timedelta(
            minutes=max(10, minutes - protocol.monitoring.observation_min - 20)
        )
        leaves = starts + timedelta(minutes=minutes)
        w.session.add(
            session_id,
            clinic_id,
            self.patient_id,
            course_id,
            appointment_id,
            protocol.id,
            protocol.version,
            protocol.route,
            "discharged",
            self.nurse,
            db_datetime(starts),
            self.nurse,
            db_datetime(starts),
            db_datetime(dosing),
            db_datetime(dosed),
            db_datetime(leaves),
        )
        readings = (
            ("pre_dose", starts + timedelta(minutes=8)),
            ("dosing", dosing + timedelta(minutes=10)),
            ("dosing", dosed - timedelta(minutes=2)),
            ("observation", leaves - timedelta(minutes=10)),
        )
        for phase, taken in readings:
            w.reading.add(
                w.reading.new_id(),
                clinic_id,
                session_id,
                phase,
                db_datetime(taken),
                rng.randint(112, 148),
                rng.randint(68, 92),
                rng.randint(58, 96),
                rng.randint(95, 100),
                5 if phase == "pre_dose" else rng.randint(3, 5),
                "none" if phase == "pre_dose" else rng.choice(("none", "mild", "mild", "moderate")),
                self.nurse,
                db_datetime(taken),
            )
        self.response(total, starts + timedelta(minutes=12), "session", self.nurse)

    def response(self, total: int, at: datetime, source: str, entered_by: int | None) -> int:
        """Store one PHQ-9 (and any safety alert it raises, as the service would)."""
        w, clinic_id = self.w, self.ctx.clinic.pk
        item9 = 1 if self.rng.random() < 0.025 else 0
        answers, total, band, alerts = self.scores.phq9(total, item9)
        response_id = w.response.new_id()
        w.response.add(
            response_id,
            clinic_id,
            self.patient_id,
            "phq9",
            answers,
            total,
            band,
            alerts,
            source,
            db_datetime(at),
            entered_by,
        )
        codes = ["suicidality"] if item9 else []
        if self.previous_total is not None and deterioration("phq9", self.previous_total, total):
            codes.append(ALERT_DETERIORATION)
        self.previous_total = total
        for code in codes:
            self._alert(code, response_id, total, band, at)
        return response_id

    def _alert(self, code: str, response_id: int, total: int, band: str, at: datetime) -> None:
        w = self.w
        age = self.now - at
        status = (
            "resolved"
            if age > timedelta(days=7)
            else "acknowledged"
            if age > timedelta(days=2)
            else "open"
        )
        handled = at + timedelta(hours=2)
        w.alert.add(
            w.alert.new_id(),
            self.ctx.clinic.pk,
            self.patient_id,
            code,
            str(alert_severity(code)),
            "Synthetic alert raised by the PHQ-9 answers.",
            response_id,
            db_json(
                {
                    "response_ids": [response_id],
                    "instrument_id": "phq9",
                    "total": total,
                    "band": band,
                }
            ),
            status,
            db_datetime(at),
            self.prescriber if status != "open" else None,
            db_datetime(handled) if status != "open" else None,
            self.prescriber if status == "resolved" else None,
            db_datetime(handled + timedelta(days=1)) if status == "resolved" else None,
            "Called the patient; safety plan reviewed." if status == "resolved" else "",
        )

    def follow_up(
        self, course_id: int, last_day: date, final: int, baseline: int, relapse_at: int | None
    ) -> date | None:
        """Questionnaires after the course; returns the day a relapse showed, if one did."""
        w, ctx, rng = self.w, self.ctx, self.rng
        relapse_day = None
        window = timedelta(days=DEFAULT_POLICY.window_days)
        for k, offset in enumerate(FOLLOW_UP_DAYS):
            opens = ctx.at(last_day + timedelta(days=offset), 9 * 60)
            if opens > self.now:
                break
            due = opens + window
            total = final + rng.randint(-1, 2)
            if relapse_at is not None and k >= relapse_at:
                total = max(int(baseline * 0.7), 12) + rng.randint(0, 3)
                relapse_day = relapse_day or (last_day + timedelta(days=offset))
            answered = due < self.now and rng.random() < 0.9
            response_id = None
            completed = None
            if answered:
                completed = opens + timedelta(hours=rng.randint(1, 60))
                response_id = self.response(total, completed, "portal", None)
            w.assignment.add(
                w.assignment.new_id(),
                ctx.clinic.pk,
                self.patient_id,
                "phq9",
                "after_course",
                f"course:{course_id}:after:{k + 1}",
                course_id,
                db_datetime(opens),
                db_datetime(due),
                "completed" if answered else "pending",
                db_datetime(completed) if completed else None,
                response_id,
                db_datetime(opens - timedelta(days=1)),
            )
        return relapse_day
