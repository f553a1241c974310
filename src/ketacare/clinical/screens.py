"""When the recovery screens are asked (data/screens.toml): at intake for every patient, every
month in an at-home programme, and on a protocol's own rhythm where the schedule names it.

The shell gathers the anchors a patient's schedule runs from (registration, an active at-home
programme, an active course) and asks `screens_due` which slots are open today; each slot has a
stable key, so planning the same slot twice plans it once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.instruments import INSTRUMENT_IDS
from ketacare.clinical.protocols import PROTOCOL_IDS

SCREENS_FILE = "screens.toml"

INTAKE = "intake"  # anchor: the patient's registration
AT_HOME = "at_home"  # anchor: an active at-home programme
PROTOCOL = "protocol"  # anchor: an active course on a protocol the schedule names
ANCHOR_KINDS = (INTAKE, AT_HOME, PROTOCOL)


@dataclass(frozen=True)
class ScreenRule:
    """Which screens one rule asks and how often (0: once, at the anchor's start)."""

    instruments: tuple[str, ...]
    every_days: int
    citation: Citation


@dataclass(frozen=True)
class ScreenSchedule:
    """The whole schedule, validated: intake, at-home, per-protocol rules and the open window."""

    intake: ScreenRule
    at_home: ScreenRule
    protocols: Mapping[str, ScreenRule]
    window_days: int
    citation: Citation

    @property
    def instrument_ids(self) -> frozenset[str]:
        """Every instrument some rule of the schedule asks."""
        rules = (self.intake, self.at_home, *self.protocols.values())
        return frozenset(i for rule in rules for i in rule.instruments)


@dataclass(frozen=True)
class ScreenAnchor:
    """What a schedule runs from: a registration, an at-home programme or a course."""

    kind: str  # ANCHOR_KINDS
    ref: int  # the patient, programme or course id
    start: date
    protocol_id: str = ""


@dataclass(frozen=True)
class ScreenSlot:
    """One open slot: its stable key, the screens it asks, and the days it is open
    (from `opens_on` up to, not including, `closes_on`)."""

    key: str
    kind: str
    ref: int  # the anchor's record: the patient, programme or course
    instruments: tuple[str, ...]
    opens_on: date
    closes_on: date


def screens_due(
    *, schedule: ScreenSchedule, anchors: Sequence[ScreenAnchor], today: date
) -> tuple[ScreenSlot, ...]:
    """The slots open today for one patient. An instrument already asked by an earlier rule
    (intake before at-home before protocol) is not asked twice in the same days."""
    window = timedelta(days=schedule.window_days)
    order = {kind: index for index, kind in enumerate(ANCHOR_KINDS)}
    slots: list[ScreenSlot] = []
    asked: set[str] = set()
    for anchor in sorted(anchors, key=lambda a: (order.get(a.kind, len(order)), a.ref)):
        slot = _open_slot(schedule, anchor, today, window)
        if slot is None:
            continue
        fresh = tuple(i for i in slot.instruments if i not in asked)
        asked.update(fresh)
        if fresh:
            slots.append(
                ScreenSlot(slot.key, slot.kind, slot.ref, fresh, slot.opens_on, slot.closes_on)
            )
    return tuple(slots)


def _open_slot(
    schedule: ScreenSchedule, anchor: ScreenAnchor, today: date, window: timedelta
) -> ScreenSlot | None:
    if anchor.kind == INTAKE:
        rule, prefix = schedule.intake, "screen:intake"
    elif anchor.kind == AT_HOME:
        rule, prefix = schedule.at_home, f"screen:athome:{anchor.ref}"
    elif anchor.kind == PROTOCOL:
        found = schedule.protocols.get(anchor.protocol_id)
        if found is None:
            return None  # this protocol names no screens
        rule, prefix = found, f"screen:course:{anchor.ref}"
    else:
        raise InvalidInput(f"unknown screen anchor {anchor.kind!r}", field="kind")
    if today < anchor.start:
        return None
    if rule.every_days == 0:
        number, opens_on = 0, anchor.start
    else:
        number = (today - anchor.start).days // rule.every_days
        if number < 1:
            return None  # the first repeat is one period after the start
        opens_on = anchor.start + timedelta(days=number * rule.every_days)
    if today >= opens_on + window:
        return None
    key = prefix if rule.every_days == 0 else f"{prefix}:every:{rule.every_days}d:{number}"
    return ScreenSlot(key, anchor.kind, anchor.ref, rule.instruments, opens_on, opens_on + window)


# --- loading ----------------------------------------------------------------------------------


@cache
def load_screen_schedule() -> ScreenSchedule:
    """The screen schedule from data/screens.toml, validated once."""
    return parse_screen_schedule(read_document(SCREENS_FILE))


def parse_screen_schedule(doc: Node) -> ScreenSchedule:
    """Validate the schedule; an unknown instrument or protocol raises DataError naming it."""
    window_days = doc.integer("window_days", minimum=1)
    citation = doc.citation()
    intake = _parse_rule(doc.child("intake"), repeating=False)
    at_home = _parse_rule(doc.child("at_home"), repeating=True)
    protocols: dict[str, ScreenRule] = {}
    if doc.has("protocols"):
        for protocol_id, node in doc.table_items("protocols"):
            if protocol_id not in PROTOCOL_IDS:
                doc.fail(f"protocols.{protocol_id}", f"unknown protocol {protocol_id!r}")
            protocols[protocol_id] = _parse_rule(node, repeating=True)
    doc.close()
    return ScreenSchedule(intake, at_home, protocols, window_days, citation)


def _parse_rule(node: Node, *, repeating: bool) -> ScreenRule:
    instruments = node.texts("instruments")
    for index, instrument_id in enumerate(instruments):
        if instrument_id not in INSTRUMENT_IDS:
            node.fail(f"instruments[{index}]", f"unknown instrument {instrument_id!r}")
    if len(set(instruments)) != len(instruments):
        node.fail("instruments", "an instrument is named twice")
    every_days = node.integer("every_days", minimum=1) if repeating else 0
    rule = ScreenRule(instruments, every_days, node.citation())
    node.close()
    return rule
