"""One synthetic patient's history: arrival, screening, consent, courses, sessions, follow-up."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from ketacare.accounts.roles import Role
from ketacare.clinical.outcomes import ALERT_DETERIORATION, deterioration
from ketacare.clinical.protocols import Protocol, get_protocol
from ketacare.followup.policy import DEFAULT_POLICY
from ketacare.outcomes.services import alert_severity
from ketacare.scheduling.selectors import protocol_session_minutes
from ketacare.synth.bulk import db_datetime, db_json
from ketacare.synth.names import FAMILY_NAMES, GIVEN_NAMES
from ketacare.synth.network.clinics import SynthClinic, next_open_day
from ketacare.synth.network.rows import Phq9Scores, Writers
from ketacare.synth.network.spec import FOLLOW_UP_DAYS, RECENT_SHARE, NetworkSpec


def patient_history(
    ctx: SynthClinic,
    w: Writers,
    scores: Phq9Scores,
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
    created = ctx.at(next_open_day(arrive), 9 * 60 + rng.randint(0, 480))
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
    course = PatientCourses(ctx, w, scores, rng, patient_id, (prescriber, nurse, desk), now)
    start = next_open_day(arrive + timedelta(days=rng.randint(3, 10)))
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
            next_open_day(relapse_day + timedelta(days=rng.randint(7, 21))),
            [int(baseline * 0.6) - 2 * i for i in range(rng.randint(1, 3))],
        )


class PatientCourses:
    """One patient's courses, sessions, readings and questionnaires."""

    def __init__(
        self,
        ctx: SynthClinic,
        w: Writers,
        scores: Phq9Scores,
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
        booked_at = db_datetime(ctx.at(next_open_day(start - timedelta(days=2)), 10 * 60))
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
            day = next_open_day(day + timedelta(days=interval))
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
