"""The monitoring timeline of a session and its fingerprint, for the polled fragment."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.clinical.protocols import Protocol
from ketacare.kernel import clock
from ketacare.treatment.models import (
    MonitoringEntry,
    SessionStatus,
    TreatmentSession,
)
from ketacare.treatment.plans import protocol_of
from ketacare.treatment.selectors.access import session_get_for_actor, sessions_of_clinic
from ketacare.treatment.selectors.record import DueReading, due_readings, timeline_fingerprint
from ketacare.treatment.services import unanswered_alarms

S = SessionStatus


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
