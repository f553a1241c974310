"""Render `var/bench/results-*.json` into docs/performance.md, between the bench markers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SIZES = ("1k", "10k", "100k")
FLOOR = "floor"
READ_LIMIT, WRITE_LIMIT, GROWTH_LIMIT, LOADED_P95_MS = 3.0, 4.0, 1.5, 150.0


def _load(var: Path) -> dict[tuple[str, str], dict[str, Any]]:
    results = {}
    for path in sorted(var.glob("results-*.json")):
        data = json.loads(path.read_text())
        results[(data["vendor"], data["size"])] = data
    return results


def _ms(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "–"
    return f"{figures['median']:.0f} / {figures['p95']:.0f}"


def _vendor(vendor: str, runs: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"### {'SQLite' if vendor == 'sqlite' else 'PostgreSQL'}", ""]
    sizes = [s for s in SIZES if s in runs]
    top, low = sizes[-1], sizes[0]
    for size in sizes:
        run = runs[size]
        lines.append(
            f"- {size}: measured {run['when']}, load average before {run['load_average'][0]} / "
            f"after {run['load_average_after'][0]}; {run['rounds']} rounds per read."
        )
    lines += [
        "",
        f"Median / p95 in ms with one client; × floor and growth are medians at {top} "
        f"(growth = {top} ÷ {low}).",
        "",
        "| read | queries | " + " | ".join(sizes) + f" | × floor at {top} | growth |",
        "|---|---|" + "---|" * len(sizes) + "---|---|",
    ]
    names = list(runs[top]["reads"])
    problems: list[str] = []
    floor = runs[top]["reads"][FLOOR]["median"]
    for name in names:
        row = [runs[s]["reads"].get(name) for s in sizes]
        last, first = row[-1], row[0]
        ratio = last["median"] / floor if last else 0
        growth = last["median"] / first["median"] if last and first else 0
        if name != FLOOR and ratio > READ_LIMIT:
            problems.append(f"{name} is {ratio:.1f}× the floor at {top}")
        if name != FLOOR and growth > GROWTH_LIMIT and first:
            problems.append(f"{name} is {growth:.2f}× slower at {top} than at {low}")
        queries = last.get("queries") if last else None
        lines.append(
            f"| {name} | {queries if queries is not None else '–'} | "
            + " | ".join(_ms(r) for r in row)
            + f" | {ratio:.1f} | {growth:.2f} |"
        )
    lines += ["", "Writes (one client, median / p95 ms, × floor at the top size):", ""]
    lines += [
        "| write | " + " | ".join(sizes) + " | × floor |",
        "|---|" + "---|" * len(sizes) + "---|",
    ]
    for name in runs[top]["writes"]:
        row = [runs[s]["writes"].get(name) for s in sizes]
        ratio = row[-1]["median"] / floor if row[-1] else 0
        if ratio > WRITE_LIMIT:
            problems.append(f"{name} is {ratio:.1f}× the floor at {top}")
        lines.append(f"| {name} | " + " | ".join(_ms(r) for r in row) + f" | {ratio:.1f} |")
    users = runs[top]["users"]
    lines += [
        "",
        f"{users} users thinking 1–3 s between requests over every page (p95 ms, and requests):",
        "",
        "| page | " + " | ".join(sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in runs[top]["thinking"]:
        cells = []
        for size in sizes:
            figures = runs[size]["thinking"].get(name)
            if name == "(errors)":
                cells.append(str(figures["n"]) if figures else "–")
            else:
                cells.append(f"{figures['p95']:.0f} ({figures['n']})" if figures else "–")
        figures = runs[top]["thinking"].get(name)
        if name not in ("(errors)",) and figures and figures["p95"] > LOADED_P95_MS:
            problems.append(f"{name} p95 {figures['p95']:.0f} ms with {users} users at {top}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Targets not met in this run:" if problems else "Every target was met in this run.",
        "",
    ]
    lines += [f"- {p}" for p in problems]
    lines.append("")
    return lines


def render(var: Path) -> str:
    """The generated part of docs/performance.md."""
    results = _load(var)
    if not results:
        return "No results yet: run `make bench`.\n"
    any_run = next(iter(results.values()))
    lines = [f"Machine: {any_run['machine']}.", "", "### The networks", ""]
    lines += [
        "| database | size | patients | generator | rows | size on disk | built |",
        "|---|---|---|---|---|---|---|",
    ]
    for (vendor, size), run in sorted(
        results.items(), key=lambda kv: (kv[0][0], SIZES.index(kv[0][1]))
    ):
        network = run["network"]
        rows = 0
        for line in network.get("report", []):
            parts = line.split()
            if len(parts) == 2 and parts[1].replace(",", "").isdigit():
                rows += int(parts[1].replace(",", ""))
        lines.append(
            f"| {vendor} | {size} | {network['patients']:,} | "
            f"{network['generator_seconds']:.0f} s | "
            f"{rows:,} | {network['bytes'] / 1e9:.2f} GB | {network['built']} |"
        )
    lines.append("")
    for vendor in ("sqlite", "postgresql"):
        runs = {size: run for (v, size), run in results.items() if v == vendor}
        if runs:
            lines += _vendor(vendor, runs)
    return "\n".join(lines) + "\n"


def write_report(var: Path, doc: Path) -> None:
    """Replace the generated part of the document (or create it)."""
    generated = f"{START}\n{render(var)}{END}"
    if doc.exists() and START in doc.read_text():
        text = doc.read_text()
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1] if END in rest else ""
        doc.write_text(before + generated + after)
    else:
        doc.write_text(f"# Performance\n\n{generated}\n")
