"""What the REMS app knows of sessions: facts the treatment app provides, never an import."""

from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from ketacare.accounts.access import Actor


class MonitoringFormSource(Protocol):
    """Fills a monitoring form's answers from a session's record (implemented by treatment)."""

    def answers(self, *, actor: Actor, session_id: int) -> dict[str, Any]:
        """The form's answers, by field id, from the session record."""
        ...


_SOURCE: list[MonitoringFormSource] = []


def register_form_source(source: MonitoringFormSource) -> None:
    """Called once by the app that owns sessions, in its AppConfig.ready()."""
    _SOURCE[:] = [source]


def form_source() -> MonitoringFormSource:
    """The registered source; missing is a configuration error."""
    if not _SOURCE:
        raise ImproperlyConfigured("No monitoring-form source is registered.")
    return _SOURCE[0]
