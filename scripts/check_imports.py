"""Fail on any import cycle between modules, or any pair of apps importing each other.

Reads the source under src/ketacare with the standard library's ast (no import of the project), so
apps added later (fhir, ledger, ...) are covered without naming them here. An import inside a
function counts like one at the top of the module: moving an import into a function to dodge a
cycle leaves the cycle, and this check still names it (imports for type checking only do not count).

    python scripts/check_imports.py            # check; exit 1 naming every cycle and app pair
    python scripts/check_imports.py --graph    # print the app-level import graph
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "ketacare"
# Packages that are not apps: the pure core and the shared kernel sit below every app; config
# (settings, urls, the NinjaAPI) sits above every app and wires them together.
NOT_APPS = {"config"}


def module_name(path: Path) -> str:
    """The dotted module name of a source file."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    """Every Python file of the package except migrations."""
    return sorted(p for p in (ROOT / PACKAGE).rglob("*.py") if "migrations" not in p.parts)


def resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names."""
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, modules: set[str]) -> tuple[set[str], list[tuple[int, str]]]:
    """Project modules imported at module level, and (line, name) of imports inside functions."""
    name = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    top: set[str] = set()
    local: list[tuple[int, str]] = []

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        found: list[str] = []
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        else:
            base = resolve(name, is_package, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(sub if sub in modules else base)
        return [f for f in found if f == PACKAGE or f.startswith(PACKAGE + ".")]

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for grand in child.orelse:
                    visit_node(grand, in_function, type_checking)
                continue  # imports for annotations only are not runtime edges
            visit_node(child, in_function, type_checking)

    def visit_node(child: ast.AST, in_function: bool, type_checking: bool) -> None:
        if isinstance(child, ast.Import | ast.ImportFrom):
            for target in targets(child):
                if in_function:
                    local.append((child.lineno, target))
                else:
                    top.add(nearest(target, modules))
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            visit(child, True, type_checking)
        else:
            visit(child, in_function, type_checking)

    visit(tree, False, False)
    top.discard(name)
    return top, local


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def nearest(target: str, modules: set[str]) -> str:
    """The longest known module that is the target or contains it."""
    while target not in modules and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def app_of(module: str) -> str | None:
    """The top-level package (app) a module belongs to, or None for the package root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def unplaced_packages() -> list[str]:
    """Top-level packages and modules of ketacare that the layers contract does not name."""
    config = ROOT.parent / "pyproject.toml"
    if not config.exists():
        return []
    pyproject = tomllib.loads(config.read_text(encoding="utf-8"))
    placed: set[str] = set()
    for contract in pyproject["tool"]["importlinter"]["contracts"]:
        for layer in contract.get("layers", []):
            placed |= {part.strip().strip("()") for part in layer.split("|")}
    found = {
        f"{PACKAGE}.{p.stem}" if p.is_file() else f"{PACKAGE}.{p.name}"
        for p in (ROOT / PACKAGE).iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name != "__init__.py")
    }
    return sorted(found - placed)


def main(argv: list[str]) -> int:
    """Check the source and report; exit status 1 on any problem."""
    global ROOT
    if "--root" in argv:  # another source tree (the tests check a tree with a planted cycle)
        ROOT = Path(argv[argv.index("--root") + 1]).resolve()
    files = source_files()
    modules = {module_name(p) for p in files}
    graph: dict[str, set[str]] = {}
    problems: list[str] = []
    local_edges: dict[tuple[str, str], str] = {}
    for path in files:
        name = module_name(path)
        top, local = imports_of(path, modules)
        graph[name] = set(top)
        for line, target in local:
            target = nearest(target, modules)
            if target != name:
                graph[name].add(target)
                local_edges.setdefault((name, target), f"{path.relative_to(ROOT.parent)}:{line}")

    apps: dict[str, set[str]] = defaultdict(set)
    why: dict[tuple[str, str], str] = {}
    for source, targets in graph.items():
        for target in targets:
            a, b = app_of(source), app_of(target)
            if a and b and a != b:
                apps[a].add(b)
                where = local_edges.get((source, target))
                note = f" (inside a function, {where})" if where else ""
                why.setdefault((a, b), f"{source} -> {target}{note}")

    if "--graph" in argv:
        for app in sorted(apps):
            print(f"{app}: {', '.join(sorted(apps[app]))}")
        return 0

    for a in sorted(apps):
        for b in sorted(apps[a]):
            if a < b and a in apps.get(b, set()):
                problems.append(
                    f"apps {a} and {b} import each other ({why[(a, b)]}; {why[(b, a)]})"
                )
    for component in cycles(graph):
        members = set(component)
        hidden = sorted(
            where for (a, b), where in local_edges.items() if a in members and b in members
        )
        note = f" (imports inside functions: {', '.join(hidden)})" if hidden else ""
        problems.append("module import cycle among: " + ", ".join(component) + note)

    for package in unplaced_packages():
        print(
            f"warning: {package} has no place in the layers contract (pyproject.toml, "
            "[[tool.importlinter.contracts]] 'Apps are layered'); add it to the line it belongs on",
            file=sys.stderr,
        )
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} import problem(s)", file=sys.stderr)
        return 1
    print(f"{len(modules)} modules: no import cycle, no two apps import each other")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
