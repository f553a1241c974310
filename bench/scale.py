"""Every page and API read at 1k, 10k and 100k patients, on SQLite and PostgreSQL (`make bench`).

For each database and size: build the synthetic network once (`ketacare synth`, reused after),
serve it with gunicorn (2 sync workers, DEBUG off), and measure
- every readable page and API operation of the route map with one client: median and p95, the
  queries each makes, and the ratio to the floor (a bare page reading one patient by primary key
  through the same middleware) measured in the same run;
- three writes (a vital-sign reading, a dose order, a portal submission) against the floor;
- 20 users who think 1-3 s (2 s on average) between page requests: p95 per page.
Results go to `var/bench/results-<db>-<size>.json` and into `docs/performance.md`.

Environment: BENCH_SIZES (default "1k,10k,100k"), BENCH_VENDORS ("sqlite,postgresql"; PostgreSQL
needs BENCH_POSTGRES_URL or DATABASE_URL), BENCH_ROUNDS (15), BENCH_USERS (20),
BENCH_LOAD_SECONDS (90), BENCH_WRITES (12).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import _load, _network
from bench._report import write_report

FLOOR = "floor"


def _targets(env: dict[str, str], writes: int) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench._targets", str(writes)],
        env={**env, "PYTHONPATH": str(_network.ROOT)},
        capture_output=True,
        text=True,
        check=False,
        cwd=_network.ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"preparing the targets failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(vendor: str, size: str) -> dict[str, Any]:
    """Build or reuse one network and measure it."""
    rounds = int(os.environ.get("BENCH_ROUNDS", "15"))
    users = int(os.environ.get("BENCH_USERS", "20"))
    seconds = float(os.environ.get("BENCH_LOAD_SECONDS", "90"))
    write_count = int(os.environ.get("BENCH_WRITES", "12"))
    print(f"== {vendor} {size}: network", flush=True)
    network = _network.ensure_network(vendor, size)
    env = _network.network_env(vendor, size)
    targets = _targets(env, write_count)
    floor = {
        "name": FLOOR,
        "kind": "page",
        "path": targets["floor"],
        "role": "prescriber",
        "queries": None,
    }
    reads = [floor, *targets["reads"]]
    load_before = os.getloadavg()
    print(f"== {vendor} {size}: {len(reads)} reads, load {load_before[0]:.1f}", flush=True)
    with _load.gunicorn(env) as port:
        single = _load.single_client(port, targets, reads, rounds)
        print(f"== {vendor} {size}: writes", flush=True)
        written = _load.writes(port, targets)
        pages = [t for t in reads if t["kind"] == "page" and t["name"] != FLOOR]
        print(f"== {vendor} {size}: {users} users for {seconds:.0f} s", flush=True)
        loaded = _load.thinking_users(port, targets, pages, users, 2.0, seconds)
    queries = {t["name"]: t.get("queries") for t in reads}
    queries[FLOOR] = _floor_queries(env, targets)
    result = {
        "vendor": vendor,
        "size": size,
        "network": network,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "rounds": rounds,
        "users": users,
        "load_seconds": seconds,
        "reads": {
            t["name"]: {"path": t["path"], "kind": t["kind"], "queries": queries[t["name"]]}
            | single[t["name"]]
            for t in reads
        },
        "writes": written,
        "thinking": loaded,
        "machine": _machine(),
    }  # fmt: skip
    out = _network.VAR / f"results-{vendor}-{size}.json"
    out.write_text(json.dumps(result, indent=1))
    return result


def _floor_queries(env: dict[str, str], targets: dict[str, Any]) -> int | None:
    code = (
        "import django,sys;django.setup();from django.test import Client;"
        "from django.db import connection;from django.test.utils import CaptureQueriesContext;"
        "c=Client();c.cookies[sys.argv[1]]=sys.argv[2];"
        "ctx=CaptureQueriesContext(connection);ctx.__enter__();r=c.get(sys.argv[3]);ctx.__exit__(None,None,None);"
        "print(len(ctx) if r.status_code==200 else -1)"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code, targets["cookie_name"], targets["cookies"]["prescriber"],
         targets["floor"]],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        return int(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, {system}"


def main() -> None:
    """Measure every requested database and size, then rewrite docs/performance.md."""
    sizes = [
        s.strip() for s in os.environ.get("BENCH_SIZES", "1k,10k,100k").split(",") if s.strip()
    ]
    vendors = [
        v.strip()
        for v in os.environ.get("BENCH_VENDORS", "sqlite,postgresql").split(",")
        if v.strip()
    ]
    if "postgresql" in vendors and not _network.postgres_url():
        print("(set BENCH_POSTGRES_URL or DATABASE_URL to measure PostgreSQL too)")
        vendors.remove("postgresql")
    for vendor in vendors:
        for size in sizes:
            measure(vendor, size)
    write_report(_network.VAR, _network.ROOT / "docs" / "performance.md")
    print("Results in docs/performance.md")


if __name__ == "__main__":
    main()
