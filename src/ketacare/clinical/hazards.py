"""The hazard log as data: each hazard, its causes, its controls and the tests that show them.

Rated the DCB0129 way (consequence × likelihood → clinical risk 1-5) before and after controls.
Every hazard needs a control and every control a test; a control that names an eligibility rule
or a protocol must name one that exists. `hazard_doc` renders docs/hazard-log.md and checks that
each named test exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.eligibility import load_eligibility_rules
from ketacare.clinical.errors import DataError
from ketacare.clinical.protocols import load_protocols

HAZARDS_FILE = "hazards.toml"
CONTROL_KINDS = ("rule", "hard_stop", "constraint", "check", "alarm")
# The hazards the log must cover (issue 8, item 9).
REQUIRED = (
    "wrong_patient",
    "missed_contraindication",
    "interaction",
    "overdose",
    "under_dose",
    "missed_deterioration",
    "early_discharge",
    "lost_alert",
    "misuse",
    "diversion",
    "wrong_record",
)
_TEST_ID = re.compile(r"^tests/[a-z0-9_/]+\.py::test_[a-z0-9_]+(\[[^\]]+\])?$")
_REF = re.compile(r"^(eligibility|protocol|code|data|service|model|route):\S.*$")


@dataclass(frozen=True)
class Level:
    """One step of a rating scale (a consequence or a likelihood)."""

    id: str
    rank: int
    label: str
    meaning: str


@dataclass(frozen=True)
class Control:
    """A control: what it does, what implements it (rule ids, hard stops, constraints), tests."""

    id: str
    kind: str
    description: str
    refs: tuple[str, ...]
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Rating:
    """Consequence and likelihood, and the clinical risk the matrix gives them."""

    severity: Level
    likelihood: Level
    risk: int


@dataclass(frozen=True)
class Hazard:
    """A hazard, its harm and causes, its controls, and its risk before and after them."""

    id: str
    title: str
    harm: str
    causes: tuple[str, ...]
    controls: tuple[Control, ...]
    before: Rating
    after: Rating


@dataclass(frozen=True)
class HazardLog:
    """The rating scales, the risk matrix and every hazard."""

    severities: tuple[Level, ...]
    likelihoods: tuple[Level, ...]
    matrix: dict[tuple[str, str], int]
    risk_meanings: dict[int, str]
    hazards: tuple[Hazard, ...]
    citation: Citation

    def tests(self) -> tuple[str, ...]:
        """Every test node id the log names, once each."""
        return tuple(dict.fromkeys(t for h in self.hazards for c in h.controls for t in c.tests))


def _levels(node: Node, key: str) -> tuple[Level, ...]:
    levels = []
    for rank, child in enumerate(node.children(key), start=1):
        levels.append(Level(child.text("id"), rank, child.text("label"), child.text("meaning")))
        child.close()
    return tuple(levels)


def _rating(
    node: Node,
    when: str,
    log: tuple[dict[str, Level], dict[str, Level]],
    matrix: dict[tuple[str, str], int],
) -> Rating:
    severities, likelihoods = log
    severity = node.text(f"severity_{when}", choices=tuple(severities))
    likelihood = node.text(f"likelihood_{when}", choices=tuple(likelihoods))
    return Rating(severities[severity], likelihoods[likelihood], matrix[(severity, likelihood)])


def _control(node: Node, known_refs: set[str]) -> Control:
    tests = node.texts("tests")
    for index, test in enumerate(tests):
        if not _TEST_ID.match(test):
            node.fail(f"tests[{index}]", f"{test!r} is not a test node id (tests/x.py::test_y)")
    refs = node.texts("refs")
    for index, ref in enumerate(refs):
        if not _REF.match(ref):
            node.fail(f"refs[{index}]", f"{ref!r} must read kind:name (eligibility:rule_id, ...)")
        if ref.split(":", 1)[0] in ("eligibility", "protocol") and ref not in known_refs:
            node.fail(f"refs[{index}]", f"{ref!r} names no rule or protocol in the core")
    control = Control(
        node.text("id"),
        node.text("kind", choices=CONTROL_KINDS),
        node.text("description"),
        refs,
        tests,
    )
    node.close()
    return control


def parse_hazards(doc: Node, known_refs: set[str]) -> HazardLog:
    """Validate the hazard log; a hazard without a control, or a control without a test, fails."""
    citation = doc.citation()
    scales = doc.child("scales")
    severities = _levels(scales, "severity")
    likelihoods = _levels(scales, "likelihood")
    rows = scales.child("matrix")
    matrix: dict[tuple[str, str], int] = {}
    for likelihood in likelihoods:
        values = rows.integers(likelihood.id, minimum=1)
        if len(values) != len(severities):
            rows.fail(likelihood.id, f"give one risk per consequence ({len(severities)})")
        for severity, risk in zip(severities, values, strict=True):
            matrix[(severity.id, likelihood.id)] = risk
    rows.close()
    meanings_node = scales.child("risk")
    risk_meanings = {int(key): meanings_node.text(key) for key in meanings_node.raw}
    meanings_node.close()
    if set(matrix.values()) - set(risk_meanings):
        scales.fail("risk", "every risk in the matrix needs a meaning")
    scales.close()
    by_id = ({s.id: s for s in severities}, {lk.id: lk for lk in likelihoods})
    hazards = []
    for node in doc.children("hazards"):
        controls = tuple(_control(child, known_refs) for child in node.children("controls"))
        ids = [c.id for c in controls]
        if len(set(ids)) != len(ids):
            node.fail("controls", "control ids repeat")
        hazard = Hazard(
            node.text("id", choices=REQUIRED),
            node.text("title"),
            node.text("harm"),
            node.texts("causes"),
            controls,
            _rating(node, "before", by_id, matrix),
            _rating(node, "after", by_id, matrix),
        )
        if hazard.after.risk > hazard.before.risk:
            node.fail("likelihood_after", "controls cannot raise the risk")
        node.close()
        hazards.append(hazard)
    found = [h.id for h in hazards]
    missing = [h for h in REQUIRED if h not in found]
    if missing or len(set(found)) != len(found):
        raise DataError(doc.file, "hazards", f"each hazard once: missing {missing}, got {found}")
    doc.close()
    return HazardLog(severities, likelihoods, matrix, risk_meanings, tuple(hazards), citation)


def core_refs() -> set[str]:
    """The references a control may name in the core: eligibility rules and protocols."""
    rules = {f"eligibility:{rule.id}" for rule in load_eligibility_rules().rules}
    return rules | {f"protocol:{protocol_id}" for protocol_id in load_protocols()}


@cache
def load_hazards() -> HazardLog:
    """The hazard log, validated once."""
    return parse_hazards(read_document(HAZARDS_FILE), core_refs())
