"""The patient portal's services: links (tokens), rate limits, saving answers, sending them, and
the journal. A patient has no account; a link is the key, so it is treated like a password."""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import Http404
from django.urls import reverse

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.instruments import Instrument, get_instrument
from ketacare.errors import Refused
from ketacare.followup.policy import portal_answerable
from ketacare.outcomes.models import (
    AssignmentStatus,
    JournalEntry,
    PortalLink,
    PortalLinkPurpose,
    PortalRateCount,
    QuestionnaireAssignment,
    ResponseSource,
)
from ketacare.outcomes.services import PORTAL_USERNAME, RecordedResponse, scale_response_record
from ketacare.patients.intake_forms import intake_submission_submit
from ketacare.patients.models import IntakeSubmission, Patient
from ketacare.patients.selectors import patient_lock_for_write

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 256 random bits, 43 characters

# Rate limits (security policy, not clinical): requests per window. A clinic tablet serves many
# patients from one address, so the per-address limit is generous; failed look-ups (unknown,
# expired or used links) are limited hard, so guessing tokens gets nowhere.
RATE_WINDOW = timedelta(minutes=15)
TOKEN_LIMIT = 150
ADDRESS_LIMIT = 600
ADDRESS_FAILURE_LIMIT = 20

QR_LINK_LIFETIME = timedelta(minutes=30)  # a link shown at the front desk is used there and then
JOURNAL_LINK_LIFETIME = timedelta(days=14)
INTAKE_LINK_LIFETIME = timedelta(days=14)  # sent ahead of the first visit
JOURNAL_MAX_CHARS = 5000


class LinkState(enum.Enum):
    """What a presented token turned out to be."""

    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class IssuedLink:
    """A new link and its token: the token is shown or sent once and never stored."""

    link: PortalLink
    token: str

    @property
    def url(self) -> str:
        """The absolute address the patient opens."""
        return portal_url(self.token)


def hash_token(token: str) -> str:
    """SHA-256 of a token: what is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def portal_url(token: str) -> str:
    """The absolute portal address for a token."""
    return settings.KETACARE_PUBLIC_URL + reverse("portal_home", kwargs={"token": token})


@transaction.atomic
def portal_link_issue(
    *,
    actor: Actor | None,
    patient: Patient,
    purpose: PortalLinkPurpose,
    assignments: Sequence[QuestionnaireAssignment],
    channel: str,
    expires_at: datetime,
    now: datetime,
) -> IssuedLink:
    """Make a link for one patient's questionnaires (or journal); only its hash is stored."""
    if actor is not None:
        actor.require(Permission.QUESTIONNAIRE_SEND)
    patient_lock_for_write(clinic_id=patient.clinic_id, patient_id=patient.pk)
    if any(a.patient_id != patient.pk for a in assignments):
        raise Refused("A link opens one patient's questionnaires only.", field="assignments")
    if purpose == PortalLinkPurpose.QUESTIONNAIRES and not assignments:
        raise Refused("There is no pending questionnaire to send.", field="assignments")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = PortalLink.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        token_hash=hash_token(token),
        purpose=purpose,
        channel=channel,
        created_at=now,
        created_by=actor.user if actor else None,
        expires_at=expires_at,
    )
    link.assignments.set(assignments)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="portal_link",
        object_id=link.pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        username="" if actor else "ketacare-worker",
        detail={
            "purpose": str(purpose),
            "channel": channel,
            "assignment_ids": [a.pk for a in assignments],
            "expires_at": expires_at.isoformat(),
        },
    )
    return IssuedLink(link=link, token=token)


def portal_link_resolve(*, token: str, now: datetime) -> tuple[LinkState, PortalLink | None]:
    """Look a presented token up by its hash and say whether it still opens anything."""
    if not token or len(token) > 100:
        return LinkState.UNKNOWN, None
    link = (
        PortalLink.objects.select_related("clinic", "patient")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if link is None:
        return LinkState.UNKNOWN, None
    if link.revoked_at is not None or link.used_at is not None:
        return LinkState.USED, link
    if link.expires_at <= now:
        return LinkState.EXPIRED, link
    return LinkState.VALID, link


def rate_limit_hit(*, key: str, limit: int, now: datetime, count: bool = True) -> bool:
    """Count one request against `key` in the current window; False once over `limit`.

    One upsert statement (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, SQLite ≥ 3.35 and
    PostgreSQL), so concurrent requests from several processes are all counted.
    """
    window = int(RATE_WINDOW.total_seconds())
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, tz=now.tzinfo)
    table = connection.ops.quote_name(PortalRateCount._meta.db_table)
    key_col, start_col, count_col = (
        connection.ops.quote_name(n) for n in ("key", "window_start", "count")
    )
    adapted = connection.ops.adapt_datetimefield_value(start)
    with connection.cursor() as cursor:
        if count:
            cursor.execute(
                f"INSERT INTO {table} ({key_col}, {start_col}, {count_col}) VALUES (%s, %s, 1) "  # noqa: S608 - names are quoted identifiers, values are parameters
                f"ON CONFLICT ({key_col}, {start_col}) DO UPDATE SET "
                f"{count_col} = {table}.{count_col} + 1 RETURNING {count_col}",
                [key, adapted],
            )
        else:
            cursor.execute(
                f"SELECT {count_col} FROM {table} WHERE {key_col} = %s AND {start_col} = %s",  # noqa: S608 - as above
                [key, adapted],
            )
        row = cursor.fetchone()
    seen = int(row[0]) if row else 0
    return seen <= limit if count else seen < limit


def rate_counts_prune(*, now: datetime) -> int:
    """Forget rate-limit windows older than a day (they hold no patient data)."""
    deleted, _ = PortalRateCount.objects.filter(window_start__lt=now - timedelta(days=1)).delete()
    return deleted


# --- questionnaires in the portal ---------------------------------------------------------


def link_assignments(link: PortalLink) -> list[QuestionnaireAssignment]:
    """The questionnaires a link opens, in the order they are asked."""
    return list(link.assignments.order_by("opens_at", "id"))


def link_assignment(link: PortalLink, assignment_pk: int) -> QuestionnaireAssignment:
    """One questionnaire of this link; any other (another patient's, another link's) is 404."""
    assignment = link.assignments.filter(pk=assignment_pk, patient_id=link.patient_id).first()
    if assignment is None:
        raise Http404("Not part of this link.")
    return assignment


def portal_instrument(assignment: QuestionnaireAssignment) -> Instrument:
    """The instrument of a portal questionnaire (patient-answered instruments only)."""
    if assignment.instrument_id not in portal_answerable():
        raise Http404("This questionnaire is asked in the clinic.")
    return get_instrument(assignment.instrument_id)


def next_unanswered_item(assignment: QuestionnaireAssignment) -> int | None:
    """The 1-based number of the first item without a saved answer, or None when all have one."""
    instrument = get_instrument(assignment.instrument_id)
    for item in instrument.items:
        if item.required_if is None and item.id not in assignment.draft_answers:
            return item.number
    return None


@transaction.atomic
def portal_answer_save(
    *,
    link: PortalLink,
    assignment_pk: int,
    item_number: int,
    value: int,
    now: datetime,
    client_address: str | None,
) -> QuestionnaireAssignment:
    """Keep one answer as the patient goes, so leaving and coming back loses nothing."""
    assignment = (
        QuestionnaireAssignment.objects.select_for_update()
        .filter(pk=link_assignment(link, assignment_pk).pk)
        .get()
    )
    if assignment.status != AssignmentStatus.PENDING:
        raise Refused("This questionnaire has already been sent.", field="status")
    instrument = portal_instrument(assignment)
    if not 1 <= item_number <= len(instrument.items):
        raise Http404("No such question.")
    item = instrument.items[item_number - 1]
    if value not in {option.value for option in item.options}:
        raise Refused("Choose one of the answers.", field=item.id)
    assignment.draft_answers = {**assignment.draft_answers, item.id: value}
    assignment.started_at = assignment.started_at or now
    assignment.save(update_fields=["draft_answers", "started_at"])
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="questionnaire_assignment",
        object_id=assignment.pk,
        patient_id=assignment.patient_id,
        clinic_id=assignment.clinic_id,
        username=PORTAL_USERNAME,
        client_address=client_address,
        detail={"link_id": link.pk, "item": item.id},
    )
    return assignment


@transaction.atomic
def portal_submit(
    *,
    link: PortalLink,
    assignment_pk: int,
    now: datetime,
    client_address: str | None,
) -> RecordedResponse:
    """Score and store a finished questionnaire, opening any safety alert in the same
    transaction; the link is used up once nothing it opens is pending."""
    assignment = (
        QuestionnaireAssignment.objects.select_for_update()
        .select_related("patient")
        .filter(pk=link_assignment(link, assignment_pk).pk)
        .get()
    )
    if assignment.status != AssignmentStatus.PENDING:
        raise Refused("This questionnaire has already been sent.", field="status")
    instrument = portal_instrument(assignment)
    answers = [assignment.draft_answers.get(item.id) for item in instrument.items]
    return scale_response_record(
        actor=None,
        patient=assignment.patient,
        instrument_id=assignment.instrument_id,
        answers=answers,
        source=ResponseSource.PORTAL,
        recorded_at=now,
        idempotency_key=f"portal:{assignment.pk}",
        client_address=client_address,
    )


def portal_read_audit(
    *, link: PortalLink, object_type: str, object_id: object, client_address: str | None
) -> None:
    """Record that the portal showed a patient's questionnaire (reads are audited too)."""
    audit_record(
        actor=None,
        action=AuditAction.READ,
        object_type=object_type,
        object_id=object_id,
        patient_id=link.patient_id,
        clinic_id=link.clinic_id,
        username=PORTAL_USERNAME,
        client_address=client_address,
        detail={"link_id": link.pk},
    )


@transaction.atomic
def intake_form_submit(
    *,
    link: PortalLink,
    sections: dict[str, Any],
    phone: str,
    email: str,
    idempotency_key: str,
    now: datetime,
    client_address: str | None,
) -> IntakeSubmission:
    """The patient sends their intake forms: kept for staff review, and the link is used up."""
    if link.purpose != PortalLinkPurpose.INTAKE:
        raise Http404("This link does not open the intake forms.")
    submission = intake_submission_submit(
        patient=link.patient,
        sections=sections,
        phone=phone,
        email=email,
        idempotency_key=idempotency_key,
        client_address=client_address,
        now=now,
    )
    PortalLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
    return submission


@transaction.atomic
def journal_entry_write(
    *, link: PortalLink, body: str, now: datetime, client_address: str | None
) -> JournalEntry:
    """Store a patient's journal entry for their therapist."""
    if link.purpose != PortalLinkPurpose.JOURNAL:
        raise Http404("This link does not open the journal.")
    body = body.strip()
    if not body:
        raise Refused("Write something before saving.", field="body")
    if len(body) > JOURNAL_MAX_CHARS:
        raise Refused(f"Please keep an entry under {JOURNAL_MAX_CHARS} characters.", field="body")
    entry = JournalEntry.objects.create(
        clinic_id=link.clinic_id, patient_id=link.patient_id, body=body, written_at=now, link=link
    )
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="journal_entry",
        object_id=entry.pk,
        patient_id=link.patient_id,
        clinic_id=link.clinic_id,
        username=PORTAL_USERNAME,
        client_address=client_address,
        detail={"link_id": link.pk, "chars": len(body)},
    )
    return entry


def pending_portal_assignments(*, patient: Patient, now: datetime) -> list[QuestionnaireAssignment]:
    """The patient's questionnaires a link may open now: pending, open, patient-answered."""
    return list(
        QuestionnaireAssignment.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            status=AssignmentStatus.PENDING,
            opens_at__lte=now,
            due_by__gt=now,
            instrument_id__in=portal_answerable(),
        ).order_by("opens_at", "id")
    )
