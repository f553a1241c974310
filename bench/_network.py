"""Build (once) and reuse the synthetic networks `make bench` measures, on SQLite and PostgreSQL.

SQLite networks live in `var/bench/sqlite-<size>/`; PostgreSQL networks in databases named
`<BENCH_DATABASE_PREFIX>_<size>` on the server BENCH_POSTGRES_URL (or DATABASE_URL) names.
Each network keeps a `network.json` beside it (generator time, rows, size on disk); a network
with that file is reused, so the 100k builds happen once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
TODAY = os.environ.get("BENCH_TODAY", "")


def postgres_url() -> str | None:
    """The server to build PostgreSQL networks on, if any."""
    return os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL")


def _database_name(size: str) -> str:
    return f"{os.environ.get('BENCH_DATABASE_PREFIX', 'ketacare_bench')}_{size}"


def network_env(vendor: str, size: str) -> dict[str, str]:
    """The environment that points the app at one network."""
    data_dir = VAR / f"{vendor}-{size}"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KETACARE_DATA_DIR": str(data_dir),
        "DJANGO_DEBUG": "0",
        "KETACARE_LOG_LEVEL": "ERROR",
        "KETACARE_BENCH_FLOOR": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SETTINGS_MODULE": "ketacare.config.settings",
    }
    env.pop("DATABASE_URL", None)
    if vendor == "postgresql":
        url = postgres_url()
        assert url, "set BENCH_POSTGRES_URL or DATABASE_URL to measure PostgreSQL"
        parts = urlsplit(url)
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{_database_name(size)}"))
    return env


def _ketacare(env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).parent / "ketacare"), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"ketacare {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _database_bytes(vendor: str, env: dict[str, str]) -> int:
    if vendor == "sqlite":
        return sum(
            p.stat().st_size for p in Path(env["KETACARE_DATA_DIR"]).glob("ketacare.sqlite3*")
        )
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def _create_database(env: dict[str, str]) -> None:
    import psycopg

    parts = urlsplit(env["DATABASE_URL"])
    admin = urlunsplit(parts._replace(path="/postgres"))
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def ensure_network(vendor: str, size: str) -> dict[str, Any]:
    """Build the network unless a finished one is there; migrate and analyse it either way."""
    env = network_env(vendor, size)
    marker = VAR / f"{vendor}-{size}" / "network.json"
    if marker.exists():
        info: dict[str, Any] = json.loads(marker.read_text())
        _ketacare(env, "migrate", "-v0")
        # The measured clinic's summaries (a network built before they existed gets them here).
        _ketacare(env, "outcomes-refresh", "--clinic", "synth-1")
        info["bytes"] = _database_bytes(vendor, env)
        return info
    if vendor == "postgresql":
        _create_database(env)
    else:
        for stale in Path(env["KETACARE_DATA_DIR"]).glob("ketacare.sqlite3*"):
            stale.unlink()
    _ketacare(env, "migrate", "-v0")
    started = time.perf_counter()
    args = ["synth", "--patients", str(SIZES[size]), "--clinics", "5"]
    if TODAY:
        args += ["--today", TODAY]
    output = _ketacare(env, *args)
    info = {
        "vendor": vendor,
        "size": size,
        "patients": SIZES[size],
        "generator_seconds": round(time.perf_counter() - started, 1),
        "built": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "report": output.strip().splitlines()[-14:],
    }
    info["bytes"] = _database_bytes(vendor, env)
    marker.write_text(json.dumps(info, indent=2))
    return info
