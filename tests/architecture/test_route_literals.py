"""Route behaviour is the core's data: no `route == "<a route>"` outside `ketacare.clinical`.

Screens and services ask the route's delivery data (`clinical.profiles.load_deliveries`: pausable,
devices, REMS, …) or the protocol instead of naming a route. Comparing two routes (a booster on its
parent's route) names none and is fine; demo and synthetic data may name routes as data.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ketacare.clinical.profiles import load_deliveries

SRC = Path(__file__).resolve().parents[2] / "src" / "ketacare"
SKIPPED = {"clinical", "migrations"}
ROUTES = set(load_deliveries())


def _names_a_route(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in ROUTES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_route(e) for e in node.elts)
    return False


def _is_route(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return "route" in node.id
    if isinstance(node, ast.Attribute):
        return "route" in node.attr
    return False


def _literals(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_route(s) for s in sides) and any(_names_a_route(s) for s in sides):
                found.append(f"{name}:{node.lineno}")
        if (  # a query on a named route
            isinstance(node, ast.keyword)
            and node.arg
            and node.arg.endswith("__route")
            and _names_a_route(node.value)
        ):
            found.append(f"{name}:{node.value.lineno}")
    return found


def test_no_route_literal_decides_anything_outside_the_core():
    paths = [
        p
        for p in SRC.rglob("*.py")
        if not SKIPPED & set(p.relative_to(SRC).parts)
        and not p.name.startswith(("demo", "synth"))
        and "synth" not in p.relative_to(SRC).parts
    ]
    found = [
        hit
        for path in paths
        for hit in _literals(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))
    ]
    assert found == [], f"route behaviour named by a literal (use the route's data): {found}"


def test_the_check_sees_a_route_literal():
    source = 'if session.route == "esketamine":\n    pass\nQ(dose_order__route="iv")\n'
    assert _literals(source, "probe.py") == ["probe.py:1", "probe.py:3"]
    assert _literals("same = parent.route == protocol.route\n", "probe.py") == []
