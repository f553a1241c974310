"""Reads of follow-up care: trajectories, worklists, the dashboard, notes and the journal."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.instruments import SCORING_TRIAGE, Instrument, get_instrument
from ketacare.clinical.outcomes import (
    classify,
    load_outcome_rules,
)
from ketacare.followup.charts import Chart, Event, Score, trajectory_chart
from ketacare.followup.policy import Policy, resolve_policy
from ketacare.followup.summaries import (  # the rules live beside the summaries they fill
    COURSE_MARKER,
    BoosterCandidate,
    choose_baseline,
    first_dose_of,
    histogram_median,
    outcome_summaries_catch_up,
    signal_from_json,
)
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_zone
from ketacare.outcomes.models import (
    AlertStatus,
    AssignmentStatus,
    BoosterSignal,
    IntegrationNote,
    JournalEntry,
    OutcomeTally,
    QuestionnaireAssignment,
    QuestionnairePolicy,
    SafetyAlert,
    ScaleResponse,
)
from ketacare.outcomes.selectors import AlertCounts, alerts_of_clinic
from ketacare.pagination import KeysetPage, keyset_page
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.scheduling.models import Course, CourseKind, CourseStatus
from ketacare.treatment.models import TreatmentSession

PRIMARY_INSTRUMENT = "phq9"  # the dashboard's default outcome measure (any classifiable works)
LIST_LIMIT = 200
PAGE_SIZE = 50  # rows of a keyset-paged list (more behind its "Older" link)


PRIMARY_INSTRUMENT = "phq9"  # the dashboard's default outcome measure (any classifiable works)


# --- a patient's trajectories -----------------------------------------------------------------


@dataclass(frozen=True)
class Trajectory:
    """One instrument's scores for a patient, its baseline and its current outcome."""

    instrument: Instrument
    responses: tuple[ScaleResponse, ...]
    baseline: ScaleResponse | None
    latest: ScaleResponse | None
    outcome: str | None
    chart: Chart | None

    @property
    def change(self) -> int | None:
        """Latest total minus baseline (negative is better on every charted scale)."""
        if self.baseline is None or self.latest is None:
            return None
        return self.latest.total - self.baseline.total


@dataclass(frozen=True)
class PatientOutcomes:
    """What the chart's outcome panel shows."""

    patient: Patient
    trajectories: tuple[Trajectory, ...]
    pending: tuple[QuestionnaireAssignment, ...]
    overdue: tuple[QuestionnaireAssignment, ...]
    alerts: tuple[SafetyAlert, ...]
    journal: tuple[JournalEntry, ...] | None
    events: tuple[Event, ...]
    first_course_start: date | None
    notes: tuple[IntegrationNote, ...] | None = None
    entered_in_error: tuple[ScaleResponse, ...] = ()


def outcome_of(
    instrument_id: str, baseline: ScaleResponse | None, latest: ScaleResponse | None
) -> str | None:
    """The core's classification of latest against baseline, or None when it does not apply."""
    if baseline is None or latest is None or latest.pk == baseline.pk:
        return None
    if instrument_id not in load_outcome_rules().classifiable:
        return None
    return classify(instrument_id, baseline.total, latest.total)


def _sessions_of(patient: Patient) -> list[TreatmentSession]:
    """The patient's sessions (not cancelled), with their course's kind: one query."""
    return list(
        TreatmentSession.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .exclude(status="cancelled")
        .select_related("course")
        .only("checked_in_at", "dosing_started_at", "course_id", "course__kind")
    )


def _session_events(sessions: Sequence[TreatmentSession]) -> list[Event]:
    events = []
    for session in sessions:
        booster = session.course.kind == CourseKind.BOOSTER
        events.append(
            Event(
                at=session.dosing_started_at or session.checked_in_at,
                kind="booster" if booster else "session",
                label="Booster session" if booster else "Session",
            )
        )
    return events


def patient_outcomes(
    *, actor: Actor, patient_id: int, now: datetime | None = None
) -> PatientOutcomes:
    """A patient's scores over time per instrument, outcomes, questionnaires and alerts."""
    now = now or clock.now()
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.QUESTIONNAIRE_VIEW
    )
    tz = clinic_zone(actor.clinic)
    responses = list(
        ScaleResponse.objects.filter(
            clinic_id=actor.clinic_id, patient=patient, entered_in_error_at__isnull=True
        ).order_by("recorded_at", "id")
    )
    courses = list(
        Course.objects.filter(clinic_id=actor.clinic_id, patient=patient).order_by(
            "started_on", "id"
        )
    )
    first_start = courses[0].started_on if courses else None
    sessions = _sessions_of(patient)
    first_dose_at = None
    if courses:  # the baseline is the last score before the first course's first dose
        first = courses[0]
        dosed = [
            s.dosing_started_at
            for s in sessions
            if s.course_id == first.pk and s.dosing_started_at is not None
        ]
        first_dose_at = first_dose_of(first, {first.pk: min(dosed)} if dosed else {}, tz)
    events = _session_events(sessions) + [
        Event(
            at=datetime.combine(c.started_on, datetime.min.time(), tzinfo=tz),
            kind="booster_course",
            label="Booster course started",
        )
        for c in courses
        if c.kind == CourseKind.BOOSTER
    ]
    by_instrument: dict[str, list[ScaleResponse]] = defaultdict(list)
    for response in responses:
        by_instrument[response.instrument_id].append(response)
    trajectories = []
    for instrument_id, series in by_instrument.items():
        instrument = get_instrument(instrument_id)
        baseline = choose_baseline(series, first_dose_at)
        latest = series[-1]
        chart = None
        if instrument.scoring != SCORING_TRIAGE and instrument.max_total > instrument.min_total:
            chart = trajectory_chart(
                instrument,
                [Score(r.recorded_at, r.total, r.band) for r in series],
                baseline=baseline.total if baseline else None,
                events=events,
            )
        trajectories.append(
            Trajectory(
                instrument=instrument,
                responses=tuple(series),
                baseline=baseline,
                latest=latest,
                outcome=outcome_of(instrument_id, baseline, latest),
                chart=chart,
            )
        )
    trajectories.sort(
        key=lambda t: (t.chart is None, t.instrument.id != PRIMARY_INSTRUMENT, t.instrument.id)
    )
    assignments = list(
        QuestionnaireAssignment.objects.filter(
            clinic_id=actor.clinic_id, patient=patient, status=AssignmentStatus.PENDING
        ).order_by("due_by", "id")
    )
    journal = None
    if actor.can(Permission.JOURNAL_VIEW):
        journal = tuple(
            JournalEntry.objects.filter(clinic_id=actor.clinic_id, patient=patient)[:20]
        )
    notes = None
    if actor.can(Permission.INTEGRATION_NOTE_VIEW):
        notes = tuple(
            IntegrationNote.objects.filter(
                clinic_id=actor.clinic_id, patient=patient
            ).select_related("session", "written_by")[:5]
        )
    alerts = (
        tuple(
            alerts_of_clinic(actor=actor)
            .filter(patient=patient)
            .exclude(status=AlertStatus.RESOLVED)
            .order_by("-raised_at")
        )
        if actor.can(Permission.ALERT_VIEW)
        else ()
    )
    return PatientOutcomes(
        patient=patient,
        trajectories=tuple(trajectories),
        pending=tuple(a for a in assignments if a.due_by > now),
        overdue=tuple(a for a in assignments if a.due_by <= now),
        alerts=alerts,
        journal=journal,
        events=tuple(sorted(events, key=lambda e: e.at)),
        first_course_start=first_start,
        notes=notes,
        entered_in_error=tuple(
            ScaleResponse.objects.filter(
                clinic_id=actor.clinic_id, patient=patient, entered_in_error_at__isnull=False
            )
            .select_related("entered_in_error_by")
            .order_by("recorded_at", "id")
        ),
    )


def note_sessions(patient: Patient) -> list[Any]:
    """The patient's treatment sessions a note may be tied to, newest first."""
    return list(
        TreatmentSession.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .exclude(status="cancelled")
        .order_by("-checked_in_at")[:50]
    )


def integration_notes_for(*, actor: Actor, patient: Patient) -> list[IntegrationNote]:
    """A patient's integration notes, newest first, for roles the permission table allows;
    the read is audited."""
    actor.require(Permission.INTEGRATION_NOTE_VIEW)
    notes = list(
        IntegrationNote.objects.filter(clinic_id=actor.clinic_id, patient=patient)
        .select_related("session", "written_by", "entered_in_error_by")
        .order_by("-written_at", "-id")[:LIST_LIMIT]
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="integration_note",
        patient_id=patient.pk,
        detail={"note_ids": [n.pk for n in notes]},
    )
    return notes


# --- the booster worklist ---------------------------------------------------------------------


def booster_worklist(*, actor: Actor, limit: int = LIST_LIMIT) -> list[BoosterCandidate]:
    """Patients to consider for a booster: after their last course, the core's relapse signal
    fired and no new course has started, longest-waiting first. The evidence is the core's,
    stored when the patient's scores or courses last changed; the read is audited."""
    actor.require(Permission.QUESTIONNAIRE_VIEW)
    outcome_summaries_catch_up(clinic=actor.clinic)
    rows = (
        BoosterSignal.objects.filter(clinic_id=actor.clinic_id)
        .select_related("patient", "course")
        .order_by("detected_on", "id")[:limit]
    )
    candidates = [
        BoosterCandidate(
            patient=row.patient,
            course=row.course,
            instrument=get_instrument(row.instrument_id),
            baseline=row.baseline_total,
            signal=signal_from_json(row.signal),
        )
        for row in rows
    ]
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="booster_worklist",
        detail={"patient_ids": [c.patient.pk for c in candidates]},
    )
    return candidates


# --- questionnaires ---------------------------------------------------------------------------


def overdue_page(
    *, actor: Actor, now: datetime | None = None, after: str | None = None, audit: bool = True
) -> KeysetPage[QuestionnaireAssignment]:
    """A keyset page of questionnaires past due and not answered (missed), latest due first."""
    actor.require(Permission.QUESTIONNAIRE_VIEW)
    now = now or clock.now()
    rows = (
        QuestionnaireAssignment.objects.filter(
            clinic_id=actor.clinic_id, status=AssignmentStatus.PENDING, due_by__lte=now
        )
        .select_related("patient")
        .prefetch_related("deliveries")
    )
    page = keyset_page(rows, keys=("due_by", "id"), cursor=after, size=PAGE_SIZE, descending=True)
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="questionnaire_assignment",
            detail={"overdue": True, "patient_ids": sorted({a.patient_id for a in page})},
        )
    return page


def overdue_questionnaires(
    *, actor: Actor, now: datetime | None = None, audit: bool = True
) -> list[QuestionnaireAssignment]:
    """Questionnaires past due and not answered (missed), latest due first (the first page)."""
    return overdue_page(actor=actor, now=now, audit=audit).items


def questionnaire_policy_for(
    *, actor: Actor, protocol_id: str = ""
) -> tuple[Policy, QuestionnairePolicy | None]:
    """The clinic's policy in force (and the stored row, if the clinic has set one)."""
    rows = list(QuestionnairePolicy.objects.filter(clinic_id=actor.clinic_id))
    row = next((r for r in rows if r.protocol_id == protocol_id), None)
    return resolve_policy(rows, protocol_id), row


# --- the clinic dashboard ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolOutcome:
    """Outcomes of the courses run under one protocol, on one instrument."""

    protocol_id: str
    courses: int
    measured: int
    responders: int
    remitters: int
    median_change: float | None

    @property
    def response_share(self) -> float | None:
        """Responders (including remitters) among measured courses."""
        return self.responders / self.measured if self.measured else None

    @property
    def remission_share(self) -> float | None:
        """Remitters among measured courses."""
        return self.remitters / self.measured if self.measured else None


@dataclass(frozen=True)
class Dashboard:
    """The clinic's measurement-based-care dashboard."""

    instrument: Instrument
    active_patients: int
    by_protocol: tuple[ProtocolOutcome, ...]
    overdue_count: int
    alert_counts: AlertCounts
    booster_count: int


def outcomes_dashboard(
    *, actor: Actor, instrument_id: str = PRIMARY_INSTRUMENT, now: datetime | None = None
) -> Dashboard:
    """Active courses, outcomes by protocol (the core classifies each course), overdue
    questionnaires, open alerts and the booster worklist's size."""
    actor.require(Permission.OUTCOMES_VIEW)
    now = now or clock.now()
    if instrument_id not in load_outcome_rules().classifiable:
        instrument_id = PRIMARY_INSTRUMENT
    outcome_summaries_catch_up(clinic=actor.clinic)
    tallies = {
        (t.protocol_id, t.instrument_id): t
        for t in OutcomeTally.objects.filter(
            clinic_id=actor.clinic_id, instrument_id__in=[COURSE_MARKER, instrument_id]
        )
    }
    by_protocol = []
    for protocol_id in sorted({p for p, i in tallies if i == COURSE_MARKER}):
        counted, measured = (
            tallies[(protocol_id, COURSE_MARKER)],
            tallies.get((protocol_id, instrument_id)),
        )
        if not counted.courses:
            continue
        by_protocol.append(
            ProtocolOutcome(
                protocol_id=protocol_id,
                courses=counted.courses,
                measured=measured.measured if measured else 0,
                responders=measured.responders if measured else 0,
                remitters=measured.remitters if measured else 0,
                median_change=histogram_median(measured.changes) if measured else None,
            )
        )
    active = (
        Course.objects.filter(clinic_id=actor.clinic_id, status=CourseStatus.ACTIVE)
        .values("patient_id")
        .distinct()
        .count()
    )
    overdue = QuestionnaireAssignment.objects.filter(
        clinic_id=actor.clinic_id, status=AssignmentStatus.PENDING, due_by__lte=now
    ).count()
    counts_row = alerts_of_clinic(actor=actor).aggregate(
        open=Count("id", filter=Q(status=AlertStatus.OPEN)),
        acknowledged=Count("id", filter=Q(status=AlertStatus.ACKNOWLEDGED)),
    )
    boosters = BoosterSignal.objects.filter(clinic_id=actor.clinic_id).count()
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="outcomes_dashboard",
        detail={"instrument_id": instrument_id, "courses": sum(p.courses for p in by_protocol)},
    )
    return Dashboard(
        instrument=get_instrument(instrument_id),
        active_patients=active,
        by_protocol=tuple(by_protocol),
        overdue_count=overdue,
        alert_counts=AlertCounts(open=counts_row["open"], acknowledged=counts_row["acknowledged"]),
        booster_count=boosters,
    )


def journal_entries(*, actor: Actor, patient: Patient) -> list[JournalEntry]:
    """A patient's journal, newest first; the read is audited."""
    actor.require(Permission.JOURNAL_VIEW)
    entries = list(JournalEntry.objects.filter(clinic_id=actor.clinic_id, patient=patient)[:100])
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="journal_entry",
        patient_id=patient.pk,
        detail={"entry_ids": [e.pk for e in entries]},
    )
    return entries
