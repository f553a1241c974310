"""What the ledger knows of treatment sessions: facts a higher app provides, never an import.

The treatment app registers a `SessionSource` when it starts; the ledger asks it for the
patient of a session (to draw for it) and for every dose given (to reconcile). The ledger
stays below treatment in the layers.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class SessionFact:
    """A treatment session as the ledger needs it."""

    session_id: int
    clinic_id: int
    patient_id: int
    route: str
    day: date
    # The dose given, in mg, once dosing has ended; None before.
    delivered_mg: Decimal | None
    dosed: bool


class SessionSource(Protocol):
    """Answers the ledger's questions about sessions (implemented by the treatment app)."""

    def session(self, *, clinic_id: int, session_id: int) -> SessionFact | None:
        """One session of the clinic, or None."""
        ...

    def dosed_sessions(
        self, *, clinic_id: int, since: date | None, until: date | None
    ) -> Sequence[SessionFact]:
        """Every session of the clinic in which a dose was given, in the period."""
        ...


_SOURCE: list[SessionSource] = []


def register_session_source(source: SessionSource) -> None:
    """Called once by the app that owns sessions, in its AppConfig.ready()."""
    _SOURCE[:] = [source]


def session_source() -> SessionSource:
    """The registered source; missing is a configuration error, never a silent empty answer."""
    if not _SOURCE:
        raise ImproperlyConfigured("No session source is registered for the ledger.")
    return _SOURCE[0]
