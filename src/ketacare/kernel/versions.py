"""Version checks: a decision names the version of the record it was made on.

Records that people decide on (a session, a chart section, an appointment, an alert, a policy)
carry a `version` that every change increments. A write that names an older version than the
record holds is refused with 409, field `version`, code `stale_version`, and nothing is written.
"""

from ketacare.errors import Conflict

FIELD = "version"
STALE = "stale_version"


def stale_version(
    what: str, *, seen: int | None, current: int | None, field: str = FIELD
) -> Conflict:
    """The 409 for a change decided on a version that is no longer current.

    `field` names the form's or body's field that carried the version, when it is not `version`
    (a recovery plan's `based_on`, for example)."""
    return Conflict(
        f"Someone else changed this {what} since you opened it: you saw version {seen}, and "
        f"after it was changed by someone else it is at version {current}. Reload and try again.",
        field=field,
        code=STALE,
    )


def ensure_version(what: str, *, seen: int | None, current: int | None) -> None:
    """Refuse (409, naming `version`) unless `seen` is the record's current version."""
    if seen is None or seen != current:
        raise stale_version(what, seen=seen, current=current)
