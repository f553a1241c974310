"""Demo measurement-based care: rating scales over time for patients 7-15, one relapse on the
booster worklist (13), one open safety alert, pending and missed questionnaires, a journal
entry, and a printed portal link for patient 7.

Scores before and between sessions are stored as history (scored by the core, no alerts);
the sessions' own pre-dose scores come from the treatment demo. Running it twice changes
nothing: every row is keyed.
"""

from __future__ import annotations

import random
import secrets
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.instruments import score
from ketacare.followup.portal import hash_token, portal_url
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_zone
from ketacare.outcomes.models import (
    AssignmentTrigger,
    IntegrationNote,
    JournalEntry,
    PortalLink,
    PortalLinkPurpose,
    QuestionnaireAssignment,
    ResponseSource,
    ScaleResponse,
)
from ketacare.outcomes.services import scale_response_record
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Course
from ketacare.treatment.models import TreatmentSession

SCORED_POSITIONS = range(7, 16)
RELAPSE_POSITION = 13
BOOSTER_POSITION = 15
ALERT_POSITION = 9
PENDING_POSITION = 7
OVERDUE_POSITION = 10


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Scores, one alert, questionnaires and a portal link for one demo clinic (idempotent)."""
    patients = list(Patient.objects.filter(clinic=clinic).order_by("mrn"))
    tz = clinic_zone(clinic)
    today = timezone.localtime(clock.now(), tz).date()
    with transaction.atomic():
        for position in SCORED_POSITIONS:
            if position <= len(patients):
                _history(patients[position - 1], position, today, tz, rng)
        if len(patients) >= ALERT_POSITION:
            _open_alert(patients[ALERT_POSITION - 1], today, tz)
        if len(patients) >= OVERDUE_POSITION:
            _questionnaire(patients[OVERDUE_POSITION - 1], "gad7", "demo:overdue", days=-5)
        if len(patients) >= PENDING_POSITION:
            patient = patients[PENDING_POSITION - 1]
            pending = [
                _questionnaire(patient, instrument, "demo:portal", days=0)
                for instrument in ("phq9", "gad7")
            ]
            _journal(patient)
            _integration_note(patient, staff[Role.THERAPIST])
            token = _demo_link(patient, pending)
    if len(patients) >= PENDING_POSITION:
        sys.stdout.write(
            f"Demo patient portal ({clinic.slug}, {patients[PENDING_POSITION - 1].mrn}): "
            f"{portal_url(token)}\n"
        )


def _at(day: date, tz: ZoneInfo, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=tz)


def _phq9(total: int, rng: random.Random) -> list[int]:
    answers = [0] * 9
    for _ in range(min(total, 24)):
        answers[rng.choice([i for i in range(8) if answers[i] < 3])] += 1
    return answers


def _gad7(total: int, rng: random.Random) -> list[int]:
    answers = [0] * 7
    for _ in range(min(total, 21)):
        answers[rng.choice([i for i in range(7) if answers[i] < 3])] += 1
    return answers


def _store(patient: Patient, instrument_id: str, answers: list[int], at: datetime) -> None:
    key = f"demo:{patient.mrn}:{instrument_id}:{at:%Y%m%d%H}"
    if ScaleResponse.objects.filter(clinic_id=patient.clinic_id, idempotency_key=key).exists():
        return
    result = score(instrument_id, answers)
    response = ScaleResponse.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        instrument_id=instrument_id,
        answers=list(result.item_scores),
        total=result.total,
        band=result.band,
        alerts=list(result.alerts),
        source=ResponseSource.PORTAL,
        recorded_at=at,
        idempotency_key=key,
    )
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="scale_response",
        object_id=response.pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        username="demo-loader",
        detail={"instrument_id": instrument_id, "total": result.total, "demo": True},
    )


def _history(
    patient: Patient, position: int, today: date, tz: ZoneInfo, rng: random.Random
) -> None:
    courses = list(Course.objects.filter(clinic_id=patient.clinic_id, patient=patient))
    courses.sort(key=lambda c: c.started_on)
    first = courses[0] if courses else None
    baseline_day = (first.started_on if first else today) - timedelta(days=3)
    phq9_base, gad7_base = 20 + rng.randint(0, 3), 14 + rng.randint(0, 4)
    _store(patient, "phq9", _phq9(phq9_base, rng), _at(baseline_day, tz))
    _store(patient, "gad7", _gad7(gad7_base, rng), _at(baseline_day, tz))
    if first is None:
        return
    # GAD-7 weekly during the first course, easing as the PHQ-9 does in the sessions.
    week = 1
    end = timezone.localtime(first.ended_at, tz).date() if first.ended_at else today
    while first.started_on + timedelta(days=7 * week) <= min(end, today):
        day = first.started_on + timedelta(days=7 * week)
        _store(patient, "gad7", _gad7(max(3, gad7_base - 4 * week), rng), _at(day, tz, 18))
        week += 1
    if first.ended_at is None:
        return
    if position == RELAPSE_POSITION:
        # After response: fine at first, then two scores above the response level a week apart
        # (the core's relapse signal), so the patient lands on the booster worklist.
        follow_up = [(7, 8), (14, 9), (28, 10), (35, 12 + rng.randint(0, 1)), (42, 15)]
    elif position == BOOSTER_POSITION:
        follow_up = [(7, 7), (21, 9), (35, 12), (42, 15), (56, 16)]
    else:
        follow_up = [(7, 6), (21, 5)]
    for days, total in follow_up:
        day = end + timedelta(days=days)
        if day < today:
            _store(patient, "phq9", _phq9(total, rng), _at(day, tz, 19))
            _store(patient, "gad7", _gad7(max(2, total - 2), rng), _at(day, tz, 19))


def _open_alert(patient: Patient, today: date, tz: ZoneInfo) -> None:
    """Yesterday evening the patient answered item 9 'several days' in the portal."""
    scale_response_record(
        actor=None,
        patient=patient,
        instrument_id="phq9",
        answers=[2, 2, 1, 2, 1, 2, 1, 1, 1],
        source=ResponseSource.PORTAL,
        recorded_at=_at(today - timedelta(days=1), tz, 21),
        idempotency_key=f"demo:{patient.mrn}:alert",
    )


def _questionnaire(
    patient: Patient, instrument_id: str, slot: str, *, days: int
) -> QuestionnaireAssignment:
    opens_at = clock.now() + timedelta(days=days, hours=-1)
    assignment, _ = QuestionnaireAssignment.objects.get_or_create(
        clinic_id=patient.clinic_id,
        patient=patient,
        instrument_id=instrument_id,
        slot=slot,
        defaults={
            "trigger": AssignmentTrigger.MANUAL,
            "opens_at": opens_at,
            "due_by": opens_at + timedelta(days=3),
        },
    )
    return assignment


def _journal(patient: Patient) -> None:
    if JournalEntry.objects.filter(clinic_id=patient.clinic_id, patient=patient).exists():
        return
    now = clock.now()
    link = PortalLink.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        token_hash=hash_token(f"demo-journal-{patient.clinic_id}-{patient.pk}-{now.timestamp()}"),
        purpose=PortalLinkPurpose.JOURNAL,
        channel="email",
        created_at=now - timedelta(days=2),
        expires_at=now + timedelta(days=12),
    )
    JournalEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        link=link,
        written_at=now - timedelta(days=1, hours=3),
        body=(
            "After Tuesday's session I walked home the long way. For the first time in months "
            "the heaviness lifted for an afternoon. I want to talk about calling my sister."
        ),
    )


def _integration_note(patient: Patient, therapist: User) -> None:
    session = (
        TreatmentSession.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .exclude(status="cancelled")
        .order_by("-checked_in_at")
        .first()
    )
    if session is None:
        return
    IntegrationNote.objects.get_or_create(
        clinic_id=patient.clinic_id,
        idempotency_key=f"demo:note:{patient.mrn}",
        defaults={
            "patient": patient,
            "session": session,
            "written_by": therapist,
            "written_at": session.checked_in_at + timedelta(days=1),
            "body": (
                "Integration session the day after the infusion. Described the experience as "
                "'standing outside the fog for once'. We worked on noticing that state in daily "
                "life; homework: a short note in the portal journal each evening."
            ),
        },
    )


def _demo_link(patient: Patient, assignments: list[QuestionnaireAssignment]) -> str:
    """A fresh random demo token each run (never the same on two installs), valid 3 days."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    link = (
        PortalLink.objects.filter(patient=patient, purpose=PortalLinkPurpose.QUESTIONNAIRES)
        .order_by("pk")
        .first()
    )
    if link is None:
        link = PortalLink(clinic_id=patient.clinic_id, patient=patient)
    link.token_hash = hash_token(token)
    link.purpose = PortalLinkPurpose.QUESTIONNAIRES
    link.channel = "email"
    link.created_at = now
    link.expires_at = now + timedelta(days=3)
    link.save()
    link.assignments.set(assignments)
    return token
