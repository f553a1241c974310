"""Serve a network with gunicorn and time requests: one client, and users who think between them."""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[int]:
    """The production server (sync workers, DEBUG off) on a free port, stopped afterwards."""
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "ketacare.config.wsgi",
        f"--workers={WORKERS}",
        f"--bind=127.0.0.1:{port}",
        "--timeout=300",
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        for _ in range(300):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


class Client:
    """One keep-alive connection, signed in as a role (web session cookie or API token)."""

    def __init__(self, port: int, targets: dict[str, Any]) -> None:
        self.port = port
        self.targets = targets
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def headers(self, target: dict[str, Any]) -> dict[str, str]:
        role = target.get("role") or "prescriber"
        if target["kind"] == "api":
            return {"Authorization": f"Bearer {self.targets['tokens'][role]}"}
        if target["kind"] == "portal":
            return {}
        return {"Cookie": f"{self.targets['cookie_name']}={self.targets['cookies'][role]}"}

    def _csrf(self, path: str) -> tuple[str, str]:
        """A page's CSRF cookie and form token (fetched before a form POST, not timed)."""
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        html = response.read().decode()
        cookie = ""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and "csrftoken=" in value:
                cookie = value.split(";", 1)[0]
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        return cookie, match.group(1) if match else ""

    def request(self, target: dict[str, Any]) -> tuple[float, int]:
        """Milliseconds for the whole response, and its status."""
        headers = {**self.headers(target), **target.get("headers", {})}
        method = target.get("method", "GET")
        body = None
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
            if target.get("body") is not None:
                body = json.dumps(target["body"])
                headers["Content-Type"] = "application/json"
            else:
                cookie, token = self._csrf(target["path"])
                body = f"csrfmiddlewaretoken={token}"
                headers["Cookie"] = cookie
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        try:
            self.connection.request(method, target["path"], body=body, headers=headers)
            response = self.connection.getresponse()
            response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            raise
        return (time.perf_counter() - start) * 1000, response.status


def summary(timings: list[float]) -> dict[str, float]:
    """Median and 95th percentile (nearest rank) in milliseconds."""
    ordered = sorted(timings)
    rank = max(0, int(round(0.95 * len(ordered))) - 1)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[rank], 1),
        "n": len(ordered),
    }


def single_client(
    port: int, targets: dict[str, Any], reads: list[dict[str, Any]], rounds: int
) -> dict[str, dict[str, float]]:
    """Every read `rounds` times, visiting all of them in each round so noise spreads evenly."""
    client = Client(port, targets)
    times: dict[str, list[float]] = {t["name"]: [] for t in reads}
    for target in reads:  # warm up: every page once
        client.request(target)
    for _ in range(rounds):
        for target in reads:
            elapsed, status = client.request(target)
            if status != 200:
                raise SystemExit(f"{target['path']} answered {status}")
            times[target["name"]].append(elapsed)
    return {name: summary(values) for name, values in times.items()}


def writes(port: int, targets: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each prepared write once, in order."""
    client = Client(port, targets)
    times: dict[str, list[float]] = {}
    for target in targets["writes"]:
        elapsed, status = client.request(target)
        if status not in (200, 201):
            raise SystemExit(f"{target['name']} {target['path']} answered {status}")
        times.setdefault(target["name"], []).append(elapsed)
    return {name: summary(values) for name, values in times.items()}


def thinking_users(
    port: int,
    targets: dict[str, Any],
    pages: list[dict[str, Any]],
    users: int,
    think_s: float,
    seconds: float,
) -> dict[str, dict[str, float]]:
    """`users` clients, each requesting a random page then thinking `think_s` (±50%)."""
    deadline = time.monotonic() + seconds
    times: dict[str, list[float]] = {t["name"]: [] for t in pages}
    errors: list[str] = []
    lock = threading.Lock()

    def user(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - load pattern, not security
        client = Client(port, targets)
        time.sleep(rng.uniform(0, think_s))
        while time.monotonic() < deadline:
            target = rng.choice(pages)
            try:
                elapsed, status = client.request(target)
            except (http.client.HTTPException, OSError) as error:
                errors.append(f"{target['name']}: {error}")
                continue
            with lock:
                times[target["name"]].append(elapsed)
                if status != 200:
                    errors.append(f"{target['name']}: {status}")
            time.sleep(rng.uniform(think_s * 0.5, think_s * 1.5))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = {name: summary(values) for name, values in times.items() if values}
    every = [v for values in times.values() for v in values]
    if every:
        result["(all clinical pages)"] = summary(every)
    result["(errors)"] = {"median": 0.0, "p95": 0.0, "n": len(errors)}
    return result
