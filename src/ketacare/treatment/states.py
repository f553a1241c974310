"""The session state machine: the one place that says which step may follow which."""

from ketacare.errors import Refused
from ketacare.treatment.models import SessionStatus

S = SessionStatus

# Re-recording the pre-dose check before any order is a correction (the status stays).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.CHECKED_IN: frozenset({S.PRE_CHECKED, S.CANCELLED}),
    S.PRE_CHECKED: frozenset({S.PRE_CHECKED, S.ORDERED, S.CANCELLED}),
    S.ORDERED: frozenset({S.VERIFIED, S.PRE_CHECKED, S.CANCELLED}),
    S.VERIFIED: frozenset({S.DOSING, S.CANCELLED}),
    S.DOSING: frozenset({S.OBSERVATION}),
    S.OBSERVATION: frozenset({S.DISCHARGED}),
    S.DISCHARGED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Steps that append to the record (readings, adverse events) rather than move it on.
OPEN_FOR_READINGS = frozenset(
    {S.CHECKED_IN, S.PRE_CHECKED, S.ORDERED, S.VERIFIED, S.DOSING, S.OBSERVATION}
)
OPEN_FOR_ADVERSE_EVENTS = OPEN_FOR_READINGS | {S.DISCHARGED}
BEFORE_DOSING = frozenset({S.CHECKED_IN, S.PRE_CHECKED, S.ORDERED, S.VERIFIED})
FINISHED = frozenset({S.DISCHARGED, S.CANCELLED})


def ensure_transition(current: str, target: str) -> None:
    """Refuse (422, field `status`) a step that may not follow the session's current status."""
    if target not in TRANSITIONS[current]:
        raise Refused(
            f"A session that is '{S(current).label.lower()}' cannot become "
            f"'{S(target).label.lower()}'.",
            field="status",
            code="invalid_transition",
        )


def ensure_status_in(current: str, allowed: frozenset[str], doing: str) -> None:
    """Refuse (422) a step the session's current status does not allow."""
    if current not in allowed:
        raise Refused(
            f"Cannot {doing}: the session is '{S(current).label.lower()}'.",
            field="status",
            code="invalid_status",
        )
