"""Every refusal code a service can raise has a test that triggers it and asserts the code.

The codes are read from the source: every `Refused`/`Conflict` (or subclass) raised in an app,
with its `code` resolved through constants, local assignments and the carriers that hold codes
until a service raises them (a booking problem, the core's session check). The tests are read
the same way: a code counts as tested when a test asserts it (the string appears in an `assert`,
a comparison, or the parametrize table feeding one).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "ketacare"
TESTS = ROOT / "tests"
ERROR_BASES = {"KetaCareError", "Refused", "Conflict"}
# Objects that carry a code until a service raises it as `refusal.code`: class name → positional
# index of the code. A carrier built in an app serves that app; one built in the core serves all.
CARRIERS = {
    "SlotProblem": 0,
    "SessionCheck": 1,
    "Blocker": 0,  # the core's readiness: course start, check-in, order, giving the dose
    "DeviceCheck": 1,  # the core's device timing
    "InfusionCompletion": 1,  # the core's infusion completion against its rate
}
# Codes a carrier holds that are not refusals (an allowed session check).
NOT_REFUSALS = {"ok"}

# Treatment codes not yet triggered by a test. Emptied as the session steps get their tests; the
# check below fails when a listed code gains a test (take it off) or stops existing.
UNTESTED_TREATMENT_CODES: set[str] = set()


# Ledger codes not yet triggered by a test: none (each is in tests/ledger/).
UNTESTED_LEDGER_CODES: set[str] = set()


def _modules(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if "migrations" not in p.parts)


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _error_classes() -> set[str]:
    classes = set(ERROR_BASES)
    changed = True
    while changed:
        changed = False
        for path in _modules(SRC):
            for node in ast.walk(_tree(path)):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in classes
                    and any(_name(base) in classes for base in node.bases)
                ):
                    classes.add(node.name)
                    changed = True
    return classes


def _constants() -> dict[str, set[str]]:
    """Module-level string constants by name, across the source."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in _modules(SRC):
        for node in _tree(path).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id].add(node.value.value)
    return found


def _carrier_codes() -> dict[str, set[str]]:
    codes: dict[str, set[str]] = defaultdict(set)
    constants = _constants()
    for path in _modules(SRC):
        app = path.relative_to(SRC).parts[0]
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call) or _name(node.func) not in CARRIERS:
                continue
            index = CARRIERS[_name(node.func) or ""]
            argument = node.args[index] if len(node.args) > index else None
            for keyword in node.keywords:
                if keyword.arg == "code":
                    argument = keyword.value
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                codes[app].add(argument.value)
            elif isinstance(argument, ast.Name):
                codes[app] |= constants.get(argument.id, set())
    return {app: found - NOT_REFUSALS for app, found in codes.items()}


def _local_assignments(function: ast.AST, name: str) -> set[str]:
    codes: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            codes |= _strings(node.value)
    return codes


def _passed_as(function: ast.FunctionDef, name: str) -> set[str] | None:
    """For a parameter: the literals callers pass for it (None when it is no parameter).

    A helper that raises `Refused(..., code=code)` with `code` its own parameter raises whatever
    its callers pass; a parameter nobody sets keeps its default (the class name, not a code).
    """
    arguments = function.args
    if name not in [a.arg for a in (*arguments.args, *arguments.kwonlyargs)]:
        return None
    passed: set[str] = set()
    for path in _modules(SRC):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and _name(node.func) == function.name:
                passed |= {
                    k.value.value
                    for k in node.keywords
                    if k.arg == name
                    and isinstance(k.value, ast.Constant)
                    and isinstance(k.value.value, str)
                }
    return passed


def refusal_codes() -> tuple[dict[str, set[str]], list[str]]:
    """Every refusal code in the apps, with the apps that raise it; and unresolved sites."""
    errors = _error_classes()
    constants = _constants()
    carried = _carrier_codes()
    codes: dict[str, set[str]] = defaultdict(set)
    unresolved: list[str] = []
    for path in _modules(SRC):
        app = path.relative_to(SRC).parts[0]
        if app == "clinical":
            continue
        tree = _tree(path)
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in errors:
                continue
            value = next((k.value for k in node.keywords if k.arg == "code"), None)
            if value is None:
                continue  # the class name is the code (e.g. Conflict), never asserted as such
            site = f"{path.relative_to(ROOT)}:{node.lineno}"
            found: set[str] = set()
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found = {value.value}
            elif isinstance(value, ast.Name):
                owner = next(
                    (f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or 0)),
                    None,
                )
                found = constants.get(value.id, set())
                if not found and owner is not None:
                    found = _local_assignments(owner, value.id)
                passed = _passed_as(owner, value.id) if owner is not None and not found else None
                if passed is not None:
                    found = passed
                    if not passed:
                        continue  # a code parameter no caller sets yet
            elif isinstance(value, ast.Attribute) and value.attr == "code":
                found = carried.get(app, set()) | carried.get("clinical", set())
            if not found:
                unresolved.append(site)
            for code in found:
                codes[code].add(app)
    return dict(codes), unresolved


def _asserted_in(node: ast.AST) -> set[str]:
    strings: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Assert | ast.Compare):
            strings |= _strings(child)
        if isinstance(child, ast.Call) and _name(child.func) == "parametrize":
            strings |= _strings(child)
    return strings


def asserted_by_tests() -> dict[str, set[str]]:
    """For each string a test asserts, the tests (file::function) that assert it."""
    asserted: dict[str, set[str]] = defaultdict(set)
    for path in _modules(TESTS):
        if path.name == Path(__file__).name:
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for string in _asserted_in(node):
                    asserted[string].add(f"{path.relative_to(ROOT)}::{node.name}")
    return asserted


def test_every_refusal_code_site_resolves_to_known_codes():
    _, unresolved = refusal_codes()
    assert unresolved == [], (
        "these raise a refusal whose code the check cannot read; use a literal, a constant or a "
        f"carrier listed in CARRIERS: {unresolved}"
    )


def test_every_refusal_code_has_a_test_that_asserts_it():
    # given every refusal code in the apps, and what the tests assert
    codes, _ = refusal_codes()
    asserted = asserted_by_tests()
    # then each has at least one asserting test, except the treatment codes still listed
    untested = sorted(code for code in codes if code not in asserted)
    owed = UNTESTED_TREATMENT_CODES | UNTESTED_LEDGER_CODES
    missing = [code for code in untested if code not in owed]
    assert missing == [], f"refusal codes no test asserts: {missing}"


def test_the_untested_list_only_holds_treatment_codes_that_still_need_a_test():
    codes, _ = refusal_codes()
    asserted = asserted_by_tests()
    stale = sorted(
        code
        for code in UNTESTED_TREATMENT_CODES
        if code not in codes or code in asserted or codes[code] != {"treatment"}
    )
    assert stale == [], f"take these off UNTESTED_TREATMENT_CODES: {stale}"


def test_the_check_finds_the_codes_it_should():
    # the check itself: codes from literals, constants, carriers and local assignments
    codes, _ = refusal_codes()
    assert {"reason_required", "cosigner_is_signer"} <= set(codes)  # literals (screening)
    assert "too_soon" in codes  # a constant and the core's session check (scheduling)
    assert {"start_blocked", "start_needs_decision"} <= set(codes)  # a local assignment
    assert "ok" not in codes
