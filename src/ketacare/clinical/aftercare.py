"""Discharge instructions for the patient, by route, each with its source (data/aftercare.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.errors import InvalidInput

AFTERCARE_FILE = "aftercare.toml"


@dataclass(frozen=True)
class Instruction:
    """One thing the patient is told on leaving, and where it comes from."""

    text: str
    citation: Citation


@dataclass(frozen=True)
class Aftercare:
    """The discharge instructions of one route."""

    route: str
    title: str
    instructions: tuple[Instruction, ...]


@cache
def load_aftercare() -> dict[str, Aftercare]:
    """Every route's discharge instructions, validated on load."""
    document = read_document(AFTERCARE_FILE)
    found: dict[str, Aftercare] = {}
    for route, node in document.table_items("routes"):
        found[route] = Aftercare(
            route=route,
            title=node.text("title"),
            instructions=tuple(_instruction(item) for item in node.children("instructions")),
        )
        node.close()
    document.close()
    return found


def _instruction(item: Node) -> Instruction:
    instruction = Instruction(text=item.text("text"), citation=item.citation())
    item.close()
    return instruction


def discharge_instructions(route: str) -> Aftercare:
    """The route's discharge instructions; an unknown route is refused, never left blank."""
    try:
        return load_aftercare()[route]
    except KeyError:
        message = f"No discharge instructions for route {route!r}."
        raise InvalidInput(message, field="route") from None
