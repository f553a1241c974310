"""What the background worker does: plan the questionnaires whose time has come, send the
invitations and reminders, and tell staff about new safety alerts.

Every step is safe to run twice, or in two workers at once: an assignment's slot is unique per
patient and instrument, and each invitation, reminder and alert notice is claimed by one
database write that only one worker can win before anything is sent.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Refused
from ketacare.followup.policy import (
    DAYS_PER_MONTH,
    DAYS_PER_WEEK,
    Policy,
    delivered_by_portal,
    resolve_policy,
)
from ketacare.followup.portal import (
    INTAKE_LINK_LIFETIME,
    JOURNAL_LINK_LIFETIME,
    IssuedLink,
    pending_portal_assignments,
    portal_link_issue,
)
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_zone
from ketacare.outcomes.models import (
    AssignmentStatus,
    AssignmentTrigger,
    DeliveryKind,
    PortalLinkPurpose,
    QuestionnaireAssignment,
    QuestionnaireDelivery,
    QuestionnairePolicy,
)
from ketacare.outcomes.notices import SYSTEM_USERNAME, alerts_notify_pending
from ketacare.outcomes.services import links_mark_used_when_done
from ketacare.patients.models import Patient
from ketacare.scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Course,
    CourseStatus,
)

logger = logging.getLogger(__name__)

SEND_HOUR = time(9, 0)  # scheduled questionnaires open at 09:00 in the clinic's time zone
SESSION_KINDS = (AppointmentKind.TREATMENT, AppointmentKind.BOOSTER)
NO_EMAIL = "This patient has no e-mail address; show the QR code at the front desk instead."
CANCELLED_APPOINTMENT = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


@dataclass(frozen=True)
class DispatchReport:
    """What one pass of the worker did."""

    planned: int = 0
    invitations: int = 0
    reminders: int = 0
    alert_notices: int = 0
    cancelled: int = 0


def worker_name() -> str:
    """Host and process, recorded with each delivery."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _local_morning(day_value: datetime | object, tz: ZoneInfo) -> datetime:
    return datetime.combine(day_value, SEND_HOUR, tzinfo=tz)  # type: ignore[arg-type]


def _policies(clinic_ids: Iterable[int]) -> dict[int, list[QuestionnairePolicy]]:
    rows: dict[int, list[QuestionnairePolicy]] = defaultdict(list)
    for row in QuestionnairePolicy.objects.filter(clinic_id__in=list(clinic_ids)):
        rows[row.clinic_id].append(row)
    return rows


def _new(
    course: Course | None,
    patient_id: int,
    clinic_id: int,
    instrument_id: str,
    trigger: AssignmentTrigger,
    slot: str,
    opens_at: datetime,
    due_by: datetime,
    appointment: Appointment | None = None,
) -> QuestionnaireAssignment:
    return QuestionnaireAssignment(
        clinic_id=clinic_id,
        patient_id=patient_id,
        instrument_id=instrument_id,
        trigger=trigger,
        slot=slot,
        course=course,
        appointment=appointment,
        opens_at=opens_at,
        due_by=due_by,
    )


def _before_sessions(
    now: datetime, policies: dict[int, list[QuestionnairePolicy]], clinic_ids: list[int] | None
) -> list[QuestionnaireAssignment]:
    horizon = max(
        [row.before_session_lead_hours for rows in policies.values() for row in rows]
        + [resolve_policy([], "").before_session_lead_hours]
    )
    appointments = Appointment.objects.filter(
        status=AppointmentStatus.BOOKED,
        kind__in=SESSION_KINDS,
        starts_at__gt=now,
        starts_at__lte=now + timedelta(hours=horizon),
    ).select_related("course")
    if clinic_ids is not None:
        appointments = appointments.filter(clinic_id__in=clinic_ids)
    planned = []
    for appointment in appointments:
        course = appointment.course
        policy = resolve_policy(
            policies.get(appointment.clinic_id, []), course.protocol_id if course else ""
        )
        opens_at = appointment.starts_at - timedelta(hours=policy.before_session_lead_hours)
        if opens_at > now:
            continue
        for instrument_id in delivered_by_portal(policy.before_session_instruments):
            planned.append(
                _new(
                    course,
                    appointment.patient_id,
                    appointment.clinic_id,
                    instrument_id,
                    AssignmentTrigger.BEFORE_SESSION,
                    f"appointment:{appointment.pk}",
                    opens_at,
                    appointment.starts_at,
                    appointment,
                )
            )
    return planned


def _current_slot(
    now: datetime, offsets: list[tuple[str, int]], start: datetime, window: timedelta
) -> tuple[str, datetime] | None:
    """The slot whose window is open now (the latest that has opened and not yet closed)."""
    for name, days in reversed(offsets):
        opens_at = start + timedelta(days=days)
        if opens_at <= now:
            return (name, opens_at) if now < opens_at + window else None
    return None


def _courses(
    now: datetime, policies: dict[int, list[QuestionnairePolicy]], clinic_ids: list[int] | None
) -> list[QuestionnaireAssignment]:
    courses = Course.objects.select_related("clinic").filter(
        status__in=(CourseStatus.ACTIVE, CourseStatus.COMPLETED, CourseStatus.STOPPED)
    )
    if clinic_ids is not None:
        courses = courses.filter(clinic_id__in=clinic_ids)
    # A later course takes over a patient's follow-up from the one before it.
    later = Course.objects.filter(
        patient_id=OuterRef("patient_id"), started_on__gt=OuterRef("started_on")
    )
    courses = courses.annotate(superseded=Exists(later))
    planned = []
    for course in courses:
        policy = resolve_policy(policies.get(course.clinic_id, []), course.protocol_id)
        tz = clinic_zone(course.clinic)
        window = timedelta(days=policy.window_days)
        if course.status == CourseStatus.ACTIVE:
            start = _local_morning(course.started_on, tz)
            every = policy.during_course_every_days
            elapsed = (now - start).days // every
            if elapsed >= 1:
                offsets = [(f"course:{course.pk}:every:{every}d:{elapsed}", elapsed * every)]
                slot = _current_slot(now, offsets, start, window)
                if slot is not None:
                    planned += _for_slot(course, policy.during_course_instruments, slot, window)
        elif course.ended_at is not None and not course.superseded:
            start = _local_morning(timezone.localtime(course.ended_at, tz).date(), tz)
            planned += _after_course(now, course, policy, start, window)
    return planned


def _after_course(
    now: datetime, course: Course, policy: Policy, start: datetime, window: timedelta
) -> list[QuestionnaireAssignment]:
    weekly = policy.after_course_weekly_count
    offsets = [(f"after:{course.pk}:week:{n}", n * DAYS_PER_WEEK) for n in range(1, weekly + 1)]
    offsets += [
        (f"after:{course.pk}:month:{m}", weekly * DAYS_PER_WEEK + m * DAYS_PER_MONTH)
        for m in range(1, policy.after_course_monthly_count + 1)
    ]
    slot = _current_slot(now, offsets, start, window)
    if slot is None:
        return []
    return _for_slot(course, policy.after_course_instruments, slot, window, after=True)


def _for_slot(
    course: Course,
    instruments: tuple[str, ...],
    slot: tuple[str, datetime],
    window: timedelta,
    *,
    after: bool = False,
) -> list[QuestionnaireAssignment]:
    name, opens_at = slot
    trigger = AssignmentTrigger.AFTER_COURSE if after else AssignmentTrigger.DURING_COURSE
    return [
        _new(
            course,
            course.patient_id,
            course.clinic_id,
            instrument_id,
            trigger,
            name,
            opens_at,
            opens_at + window,
        )
        for instrument_id in delivered_by_portal(instruments)
    ]


# A higher app that asks its own questionnaires on its own schedule (recovery's screens) plans
# them here: given now and the clinics (None: all), it returns unsaved assignments whose slot has
# opened, with stable slot keys. Registered from the app's ready(); called on every pass.
AssignmentPlanner = Callable[[datetime, list[int] | None], list[QuestionnaireAssignment]]
_PLANNERS: list[AssignmentPlanner] = []


def assignment_planner_register(planner: AssignmentPlanner) -> None:
    """Add a higher app's planner to every dispatch pass (once, however often it registers)."""
    if planner not in _PLANNERS:
        _PLANNERS.append(planner)


def assignments_plan(*, now: datetime, clinic_ids: list[int] | None = None) -> int:
    """Create the questionnaires whose slot has opened; a slot already planned is left alone."""
    policies = _policies(
        clinic_ids if clinic_ids is not None else Clinic.objects.values_list("id", flat=True)
    )
    planned = _before_sessions(now, policies, clinic_ids) + _courses(now, policies, clinic_ids)
    for planner in _PLANNERS:
        planned += planner(now, clinic_ids)
    if not planned:
        return 0
    # The unique (clinic, patient, instrument, slot) makes this idempotent under any race.
    before = QuestionnaireAssignment.objects.count()
    QuestionnaireAssignment.objects.bulk_create(planned, ignore_conflicts=True)
    return QuestionnaireAssignment.objects.count() - before


def assignments_cancel_for_cancelled_sessions(*, now: datetime | None = None) -> int:
    """A questionnaire asked before a session that was cancelled is no longer asked (and a
    link with nothing else left to answer is used up)."""
    with transaction.atomic():
        ids = list(
            QuestionnaireAssignment.objects.filter(
                status=AssignmentStatus.PENDING,
                trigger=AssignmentTrigger.BEFORE_SESSION,
                appointment__status__in=CANCELLED_APPOINTMENT,
            ).values_list("pk", flat=True)
        )
        cancelled = QuestionnaireAssignment.objects.filter(
            pk__in=ids, status=AssignmentStatus.PENDING
        ).update(status=AssignmentStatus.CANCELLED, cancelled_reason="session cancelled")
        links_mark_used_when_done(assignment_ids=ids, now=now or clock.now())
    return cancelled


# --- sending ------------------------------------------------------------------------------


def _claim_deliveries(
    assignments: list[QuestionnaireAssignment], kind: DeliveryKind, now: datetime, worker: str
) -> list[QuestionnaireAssignment]:
    claimed = []
    for assignment in assignments:
        try:
            with transaction.atomic():
                QuestionnaireDelivery.objects.create(
                    clinic_id=assignment.clinic_id,
                    assignment=assignment,
                    kind=kind,
                    sent_at=now,
                    worker=worker,
                )
        except IntegrityError:  # another worker has it
            continue
        claimed.append(assignment)
    return claimed


def _send_to_patient(
    patient: Patient,
    candidates: list[QuestionnaireAssignment],
    kind: DeliveryKind,
    now: datetime,
    worker: str,
) -> int:
    """Claim, issue one link for all the patient's open questionnaires, and send one e-mail.

    The claim, the link and the e-mail are one transaction: if sending fails, nothing is
    claimed and the next pass tries again.
    """
    with transaction.atomic():
        # On PostgreSQL another worker busy with this patient holds these rows: skip them and
        # move on rather than queue behind it (SQLite serialises writers anyway).
        free = set(
            QuestionnaireAssignment.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[a.pk for a in candidates])
            .values_list("pk", flat=True)
        )
        claimed = _claim_deliveries([a for a in candidates if a.pk in free], kind, now, worker)
        if not claimed:
            return 0
        open_ones = pending_portal_assignments(patient=patient, now=now)
        issued = portal_link_issue(
            actor=None,
            patient=patient,
            purpose=PortalLinkPurpose.QUESTIONNAIRES,
            assignments=open_ones,
            channel="email",
            expires_at=max(a.due_by for a in open_ones),
            now=now,
        )
        audit_record(
            actor=None,
            action=AuditAction.CREATE,
            object_type="questionnaire_delivery",
            object_id=",".join(str(a.pk) for a in claimed),
            patient_id=patient.pk,
            clinic_id=patient.clinic_id,
            username=SYSTEM_USERNAME,
            detail={"kind": str(kind), "worker": worker, "link_id": issued.link.pk},
        )
        _email_patient(patient, issued, open_ones, reminder=kind == DeliveryKind.REMINDER)
    return len(claimed)


def _email_patient(
    patient: Patient,
    issued: IssuedLink,
    assignments: list[QuestionnaireAssignment],
    *,
    reminder: bool,
) -> None:
    clinic = patient.clinic
    count = len(assignments)
    what = "a short questionnaire" if count == 1 else f"{count} short questionnaires"
    until = timezone.localtime(issued.link.expires_at, clinic_zone(clinic))
    subject = (
        f"Reminder from {clinic.name}: your questionnaire"
        if reminder
        else f"{clinic.name}: a questionnaire before your next step"
    )
    # No clinical detail in e-mail: the link, its expiry, and where to turn in a crisis.
    body = (
        f"Hello,\n\n{clinic.name} asks you to answer {what}. It takes a few minutes on your "
        f"phone:\n\n{issued.url}\n\nThe link is for you alone and works until "
        f"{until:%A %d %B, %H:%M}.\n\nThe clinic reads answers during opening hours; this is "
        f"not an emergency service. {clinic.crisis_resources}\n"
    )
    send_mail(subject, body, None, [patient.email])


def _due(now: datetime, patient_id: int | None) -> list[QuestionnaireAssignment]:
    invited = QuestionnaireDelivery.objects.filter(
        assignment_id=OuterRef("pk"), kind=DeliveryKind.INVITE
    )
    due = (
        QuestionnaireAssignment.objects.filter(
            status=AssignmentStatus.PENDING, opens_at__lte=now, due_by__gt=now
        )
        .annotate(invited=Exists(invited))
        .filter(invited=False)
        .exclude(patient__email="")
        .select_related("patient__clinic")
        .order_by("patient_id", "opens_at", "id")
    )
    if patient_id is not None:
        due = due.filter(patient_id=patient_id)
    return list(due)


def _reminders_due(now: datetime, patient_id: int | None) -> list[QuestionnaireAssignment]:
    reminded = QuestionnaireDelivery.objects.filter(
        assignment_id=OuterRef("pk"), kind=DeliveryKind.REMINDER
    )
    candidates = (
        QuestionnaireAssignment.objects.filter(
            status=AssignmentStatus.PENDING,
            due_by__gt=now,
            deliveries__kind=DeliveryKind.INVITE,
        )
        .annotate(reminded=Exists(reminded))
        .filter(reminded=False)
        .exclude(patient__email="")
        .select_related("patient__clinic", "course")
        .prefetch_related("deliveries")
        .order_by("patient_id", "opens_at", "id")
    )
    if patient_id is not None:
        candidates = candidates.filter(patient_id=patient_id)
    rows = list(candidates)
    policies = _policies({a.clinic_id for a in rows})
    due: list[QuestionnaireAssignment] = []
    for assignment in rows:
        policy = resolve_policy(
            policies.get(assignment.clinic_id, []),
            assignment.course.protocol_id if assignment.course else "",
        )
        invite = next(d for d in assignment.deliveries.all() if d.kind == DeliveryKind.INVITE)
        if invite.sent_at + timedelta(hours=policy.reminder_after_hours) <= now:
            due.append(assignment)
    return due


def _by_patient(
    assignments: list[QuestionnaireAssignment],
) -> list[tuple[Patient, list[QuestionnaireAssignment]]]:
    grouped: dict[int, list[QuestionnaireAssignment]] = defaultdict(list)
    for assignment in assignments:
        grouped[assignment.patient_id].append(assignment)
    return [(items[0].patient, items) for items in grouped.values()]


def questionnaires_send(
    *, now: datetime, worker: str | None = None, patient_id: int | None = None
) -> tuple[int, int]:
    """Send each due invitation and reminder once: (invitations, reminders) sent by this call."""
    worker = worker or worker_name()
    sent = {DeliveryKind.INVITE: 0, DeliveryKind.REMINDER: 0}
    for kind, due in (
        (DeliveryKind.INVITE, _due(now, patient_id)),
        (DeliveryKind.REMINDER, _reminders_due(now, patient_id)),
    ):
        for patient, items in _by_patient(due):
            try:
                sent[kind] += _send_to_patient(patient, items, kind, now, worker)
            except Exception:  # one bad address must not stop the others; retried next pass
                logger.exception("Sending questionnaires to patient %s failed", patient.pk)
    return sent[DeliveryKind.INVITE], sent[DeliveryKind.REMINDER]


def dispatch_pass(*, now: datetime | None = None, worker: str | None = None) -> DispatchReport:
    """One full pass: cancel, plan, send invitations and reminders, announce alerts."""
    now = now or clock.now()
    cancelled = assignments_cancel_for_cancelled_sessions(now=now)
    planned = assignments_plan(now=now)
    invitations, reminders = questionnaires_send(now=now, worker=worker)
    notices = alerts_notify_pending(now=now)
    return DispatchReport(
        planned=planned,
        invitations=invitations,
        reminders=reminders,
        alert_notices=notices,
        cancelled=cancelled,
    )


def questionnaires_email_now(*, actor: Actor, patient: Patient, now: datetime) -> IssuedLink:
    """Staff send the patient a fresh link to every open questionnaire, now.

    Invitations not yet sent are claimed as sent, so the worker does not send them again.
    """
    actor.require(Permission.QUESTIONNAIRE_SEND)
    if not patient.email:
        raise Refused(NO_EMAIL, field="email")
    with transaction.atomic():
        open_ones = pending_portal_assignments(patient=patient, now=now)
        if not open_ones:
            raise Refused("There is no open questionnaire to send.", field="instrument_ids")
        uninvited = [
            a for a in open_ones if not a.deliveries.filter(kind=DeliveryKind.INVITE).exists()
        ]
        _claim_deliveries(uninvited, DeliveryKind.INVITE, now, f"staff:{actor.user.username}")
        issued = portal_link_issue(
            actor=actor,
            patient=patient,
            purpose=PortalLinkPurpose.QUESTIONNAIRES,
            assignments=open_ones,
            channel="email",
            expires_at=max(a.due_by for a in open_ones),
            now=now,
        )
        _email_patient(patient, issued, open_ones, reminder=False)
    return issued


def intake_link_email(*, actor: Actor, patient: Patient, now: datetime) -> IssuedLink:
    """E-mail the patient a link to the intake forms to fill in before the first visit."""
    actor.require(Permission.QUESTIONNAIRE_SEND)
    if not patient.email:
        raise Refused(NO_EMAIL, field="email")
    with transaction.atomic():
        issued = portal_link_issue(
            actor=actor,
            patient=patient,
            purpose=PortalLinkPurpose.INTAKE,
            assignments=[],
            channel="email",
            expires_at=now + INTAKE_LINK_LIFETIME,
            now=now,
        )
        clinic = patient.clinic
        until = timezone.localtime(issued.link.expires_at, clinic_zone(clinic))
        send_mail(
            f"{clinic.name}: forms to fill in before your first visit",
            f"Hello,\n\nBefore your first visit to {clinic.name}, please tell us about your "
            f"health, your medicines and who to contact in an emergency:\n\n{issued.url}\n\n"
            f"The link is for you alone and works until {until:%A %d %B}. Your care team goes "
            f"through your answers with you before anything is added to your record. This is "
            f"not an emergency service. {clinic.crisis_resources}\n",
            None,
            [patient.email],
        )
    return issued


def journal_link_email(*, actor: Actor, patient: Patient, now: datetime) -> IssuedLink:
    """E-mail the patient a link to write journal entries for their therapist."""
    actor.require(Permission.QUESTIONNAIRE_SEND)
    if not patient.email:
        raise Refused(NO_EMAIL, field="email")
    with transaction.atomic():
        issued = portal_link_issue(
            actor=actor,
            patient=patient,
            purpose=PortalLinkPurpose.JOURNAL,
            assignments=[],
            channel="email",
            expires_at=now + JOURNAL_LINK_LIFETIME,
            now=now,
        )
        clinic = patient.clinic
        until = timezone.localtime(issued.link.expires_at, clinic_zone(clinic))
        send_mail(
            f"{clinic.name}: your journal between sessions",
            f"Hello,\n\nYou can write about your experiences between sessions for your "
            f"therapist at {clinic.name}:\n\n{issued.url}\n\nThe link is for you alone and "
            f"works until {until:%A %d %B}. Your therapist reads entries before your next "
            f"session; this is not an emergency service. {clinic.crisis_resources}\n",
            None,
            [patient.email],
        )
    return issued
