"""The session state diagram, rendered from the state table (`treatment.states.TRANSITIONS`).

`ketacare session-states-doc` writes it to docs/session-states.md; `make lint` runs it with
`--check`, so the picture in the docs is always the table the code enforces.
"""

from ketacare.treatment.models import SessionStatus
from ketacare.treatment.states import (
    BEFORE_DOSING,
    FINISHED,
    OPEN_FOR_ADVERSE_EVENTS,
    OPEN_FOR_READINGS,
    TRANSITIONS,
)


def _names(statuses: frozenset[str]) -> str:
    return ", ".join(f"`{s}`" for s in SessionStatus.values if s in statuses)


def render_state_diagram() -> str:
    """docs/session-states.md: the session's Mermaid state diagram and what each state allows."""
    lines = [
        "# Treatment session states",
        "",
        "Generated from `ketacare.treatment.states` by `ketacare session-states-doc`; do not edit.",
        "`make lint` fails when this file and the state table disagree.",
        "",
        "```mermaid",
        "stateDiagram-v2",
        f"    [*] --> {SessionStatus.CHECKED_IN.value}",
    ]
    for status in SessionStatus.values:
        for target in SessionStatus.values:
            if target in TRANSITIONS[status]:
                lines.append(f"    {status} --> {target}")
    for status in SessionStatus.values:
        if not TRANSITIONS[status]:
            lines.append(f"    {status} --> [*]")
    lines += ["```", "", "| state | label | may become |", "|---|---|---|"]
    for status in SessionStatus:
        targets = _names(TRANSITIONS[status.value]) or "— (final)"
        lines.append(f"| `{status.value}` | {status.label} | {targets} |")
    lines += [
        "",
        f"- Readings may be recorded in: {_names(OPEN_FOR_READINGS)}.",
        f"- Adverse events may be recorded in: {_names(OPEN_FOR_ADVERSE_EVENTS)}.",
        f"- Before dosing (a session ended here is attended, not dosed): {_names(BEFORE_DOSING)}.",
        f"- Finished: {_names(FINISHED)}.",
        "",
    ]
    return "\n".join(lines)
