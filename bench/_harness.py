"""What every benchmark shares: run a child process on a throwaway SQLite or PostgreSQL database.

Each benchmark module runs itself with `--child` in a fresh process (so Django is set up
against the throwaway database) and prints one JSON line of results, which the parent reads.
"""

import json
import os
import subprocess
import sys
import tempfile
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def _run(module: str, env: dict[str, str]) -> dict[str, Any]:
    child_env = {
        **os.environ,
        **env,
        "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "KETACARE_LOG_LEVEL": "ERROR",
    }
    if "DATABASE_URL" not in env:
        child_env.pop("DATABASE_URL", None)
    output = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module, "--child"],
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        raise SystemExit(f"benchmark failed:\n{output.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def run_on_sqlite(module: str) -> dict[str, Any]:
    """Run the benchmark's child on a fresh SQLite file."""
    with tempfile.TemporaryDirectory(prefix="kc-bench-") as data_dir:
        return _run(module, {"KETACARE_DATA_DIR": data_dir})


def run_on_postgresql(module: str, url: str) -> dict[str, Any]:
    """Run the benchmark's child on a throwaway PostgreSQL database beside `url`'s."""
    import psycopg

    name = f"kc_bench_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="kc-bench-") as data_dir:
            bench_url = urlunsplit(parts._replace(path=f"/{name}"))
            return _run(module, {"DATABASE_URL": bench_url, "KETACARE_DATA_DIR": data_dir})
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_everywhere(module: str) -> list[dict[str, Any]]:
    """SQLite always; PostgreSQL too when DATABASE_URL is set."""
    results = [run_on_sqlite(module)]
    url = os.environ.get("DATABASE_URL")
    if url:
        results.append(run_on_postgresql(module, url))
    return results
