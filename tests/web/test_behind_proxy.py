"""Behind a real reverse proxy (Debian's nginx) in front of gunicorn: the client is the client.

Clients connect from different loopback addresses (127.0.0.5, 127.0.0.6, ...), as different
machines would; nginx appends the real peer to X-Forwarded-For, and only nginx's address is a
trusted proxy. The portal limit, the login lockout and the audit trail all see each client's
own address, and what a client writes into X-Forwarded-For itself changes nothing.
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.factories import TEST_PASSWORD

BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int) -> None:
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on port {port}")


def _ketacare(env: dict[str, str], *args: str, stdin: str = "") -> str:
    result = subprocess.run(
        [str(BIN / "ketacare"), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@dataclass
class Browserless:
    """A client on its own loopback address, keeping its cookies."""

    port: int
    source: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, str]:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.source, 0)
        )
        sent = {"Host": f"127.0.0.1:{self.port}", **headers}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        text = response.read().decode(errors="replace")
        connection.close()
        return response.status, text

    def sign_in(self, username: str, password: str) -> int:
        _, page = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _ = self.request(
            "POST",
            "/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
        return status


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """gunicorn trusting only nginx, nginx in front; yields nginx's port and the environment."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ketacare.config.settings",
        "KETACARE_DATA_DIR": str(tmp_path / "data"),
        "KETACARE_TRUSTED_PROXIES": "127.0.0.1",
        "DJANGO_DEBUG": "0",
    }
    database = None
    base = os.environ.get("DATABASE_URL", "")
    if base:
        import psycopg

        root, _, _ = base.rpartition("/")
        database = f"kc_proxy_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{root}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = f"{root}/{database}"
    _ketacare(env, "migrate", "-v0")
    _ketacare(env, "clinic", "create", "proxy", "Proxy Clinic")
    password = TEST_PASSWORD + "-Proxy9"
    _ketacare(env, "user", "create", "proxy.nurse", "--clinic", "proxy", "--role", "nurse",
              stdin=f"{password}\n")  # fmt: skip
    app_port, proxy_port = _free_port(), _free_port()
    gunicorn = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "ketacare.config.wsgi",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{app_port}",
            "--log-level",
            "warning",
        ],  # fmt: skip
        env=env,
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    server {{
        listen 127.0.0.1:{proxy_port};
        location / {{
            proxy_pass http://127.0.0.1:{app_port};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""
    )
    nginx = subprocess.Popen(  # noqa: S603
        [NGINX, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "nginx-error.log")]
    )
    try:
        _wait_for(app_port)
        _wait_for(proxy_port)
        env["password"] = password
        yield proxy_port, env
    finally:
        nginx.terminate()
        gunicorn.terminate()
        nginx.wait(timeout=30)
        gunicorn.wait(timeout=30)
        if database:
            import psycopg

            with psycopg.connect(f"{root}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _audit_addresses(env: dict[str, str], action: str) -> list[str]:
    out = _ketacare(
        env,
        "shell",
        "-c",
        "from ketacare.audit.models import AuditEntry as A; "
        f"print(list(A.objects.filter(action='{action}').order_by('id')"
        ".values_list('client_address', flat=True)))",
    )
    return re.findall(r"'([^']*)'", out)


def test_the_portal_limit_locks_out_only_the_client_that_tried_bad_links(proxied):
    port, _ = proxied
    prober = Browserless(port, "127.0.0.5")
    # given 20 bad portal links from one client (and a forged header claiming another address)
    statuses = [
        prober.request("GET", f"/portal/bad-{n}/", **{"X-Forwarded-For": f"10.9.9.{n}"})[0]
        for n in range(21)
    ]
    # then that client is limited
    assert statuses[:20] == [404] * 20 and statuses[20] == 429
    # and a patient on another address is not
    assert Browserless(port, "127.0.0.6").request("GET", "/portal/bad-x/")[0] == 404
    # and claiming to be that patient in X-Forwarded-For does not help the prober
    spoofed = prober.request("GET", "/portal/bad-y/", **{"X-Forwarded-For": "127.0.0.6"})
    assert spoofed[0] == 429


def test_the_login_lockout_and_the_audit_use_the_real_client_address(proxied):
    port, env = proxied
    attacker = Browserless(port, "127.0.0.7")
    # given five failed sign-ins for the nurse from one address
    for _ in range(5):
        attacker.sign_in("proxy.nurse", "not-her-password")
    # then that address is locked out for her username
    assert attacker.sign_in("proxy.nurse", env["password"]) == 429
    # but the nurse at her own workstation still signs in
    assert Browserless(port, "127.0.0.8").sign_in("proxy.nurse", env["password"]) == 302
    # and the audit trail names each client, never the proxy
    failed = _audit_addresses(env, "login_failed")
    assert failed and set(failed) == {"127.0.0.7"}
    assert _audit_addresses(env, "login") == ["127.0.0.8"]
    assert "127.0.0.7" in _audit_addresses(env, "locked_out")
