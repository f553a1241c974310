"""The `ketacare` command, run as a user runs it: a real process on a fresh SQLite file."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from ketacare.accounts.models import ApiToken, Clinic, User
from ketacare.accounts.roles import Role
from ketacare.cli import _serve_arguments
from ketacare.demo import DEMO_CLINICS, DEMO_ROLES, PATIENTS_PER_CLINIC
from ketacare.patients.models import Patient

# The child process must not inherit the test run's database or its async-safety override.
INHERITED_FROM_TESTS = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_FROM_TESTS}
    return {**env, "KETACARE_DATA_DIR": str(data_dir), **extra}


def _ketacare(
    data_dir: Path, *args: str, stdin: str = "", **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = _environment(data_dir, **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "ketacare.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        # A guard against a hung command, not a speed check: `init-demo` takes about a minute on
        # an idle machine and many times that on a loaded one.
        timeout=900,
        check=False,
    )


def _sql(
    data_dir: Path, statement: str, parameters: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    """Run one statement on the CLI's database file, closing the connection at once."""
    database = sqlite3.connect(data_dir / "ketacare.sqlite3")
    try:
        rows = database.execute(statement, parameters).fetchall()
        database.commit()
        return rows
    finally:
        database.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ketacare-cli")
    result = _ketacare(directory, "migrate", "--verbosity", "0")
    assert result.returncode == 0, result.stderr
    return directory


def test_the_database_is_sqlite_in_wal_mode_with_full_sync(data_dir):
    assert _sql(data_dir, "PRAGMA journal_mode") == [("wal",)]


def test_every_connection_commits_with_full_synchronous_writes(data_dir):
    # synchronous is per connection, so ask through the application's own connection
    probe = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA synchronous'); print(c.fetchone()[0])"
    )
    result = _ketacare(data_dir, "shell", "-c", probe)
    assert result.stdout.strip().splitlines()[-1] == "2", result.stderr  # 2 = FULL


def test_clinic_user_and_token_are_created_from_the_command_line(data_dir):
    # given a clinic
    created = _ketacare(data_dir, "clinic", "create", "lakeside", "Lakeside Clinic")
    assert created.returncode == 0, created.stderr
    # when a user is created with the password on standard input
    user = _ketacare(
        data_dir,
        "user",
        "create",
        "lee",
        "--clinic",
        "lakeside",
        "--role",
        "nurse",
        stdin="a-long-enough-passphrase\n",
    )
    assert user.returncode == 0, user.stderr
    # and a token is issued
    token = _ketacare(data_dir, "token", "create", "lee")
    # then the raw token is printed once and only its hash is stored
    raw = token.stdout.strip()
    assert token.returncode == 0 and raw.startswith("kc_")
    stored = _sql(data_dir, "SELECT key_hash, key_hint FROM accounts_apitoken")
    assert len(stored) == 1 and raw not in stored[0]


def test_a_weak_password_is_refused_with_a_message_and_non_zero_exit(data_dir):
    _ketacare(data_dir, "clinic", "create", "weak", "Weak Clinic")
    result = _ketacare(
        data_dir, "user", "create", "weakling", "--clinic", "weak", "--role", "nurse", stdin="123\n"
    )
    assert result.returncode != 0
    assert "password" in result.stderr


def test_an_unknown_clinic_or_role_is_refused(data_dir):
    no_clinic = _ketacare(
        data_dir, "user", "create", "x", "--clinic", "nowhere", "--role", "nurse", stdin="p" * 12
    )
    bad_role = _ketacare(
        data_dir, "user", "create", "x", "--clinic", "lakeside", "--role", "wizard"
    )
    assert no_clinic.returncode != 0 and "nowhere" in no_clinic.stderr
    assert bad_role.returncode != 0 and "role" in bad_role.stderr


def test_a_duplicate_clinic_slug_is_refused(data_dir):
    _ketacare(data_dir, "clinic", "create", "twice", "Twice")
    again = _ketacare(data_dir, "clinic", "create", "twice", "Twice again")
    assert again.returncode != 0 and "already exists" in again.stderr


def test_audit_verify_exits_zero_on_an_intact_trail_and_non_zero_naming_a_tampered_entry(data_dir):
    assert _ketacare(data_dir, "init-demo").returncode == 0
    intact = _ketacare(data_dir, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    [(entry_id, seq)] = _sql(
        data_dir, "SELECT id, seq FROM audit_auditentry ORDER BY id LIMIT 1 OFFSET 3"
    )
    _sql(data_dir, "UPDATE audit_auditentry SET object_id = '999' WHERE id = ?", (entry_id,))
    broken = _ketacare(data_dir, "audit", "verify")
    assert broken.returncode != 0
    assert f"entry id {entry_id}" in broken.stderr and f"seq {seq}" in broken.stderr


def test_check_deploy_is_clean_under_production_settings(data_dir):
    result = _ketacare(
        data_dir,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        KETACARE_ENV="production",
        DJANGO_SECRET_KEY="x" * 64 + "-production-test-key-Zq9",
        ALLOWED_HOSTS="clinic.example",
        KETACARE_CHAIN_KEY="k" * 32 + "-production-chain-key-test",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_serve_defaults_to_localhost_port_8000():
    assert _serve_arguments([]) == ["runserver", "127.0.0.1:8000", "--noreload"]
    assert _serve_arguments(["--host", "0.0.0.0", "--port", "9000"])[1] == "0.0.0.0:9000"  # noqa: S104


@pytest.mark.django_db
def test_init_demo_twice_leaves_one_copy_of_the_demo_data():
    # when
    call_command("init_demo", verbosity=0)
    call_command("init_demo", verbosity=0)
    # then
    assert Clinic.objects.count() == len(DEMO_CLINICS)
    assert User.objects.count() == len(DEMO_CLINICS) * len(DEMO_ROLES)
    assert Patient.objects.count() == len(DEMO_CLINICS) * PATIENTS_PER_CLINIC
    assert set(
        User.objects.filter(memberships__role=Role.FRONT_DESK).values_list("username", flat=True)
    ) == {"north.frontdesk", "south.frontdesk"}
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_the_permission_doc_is_up_to_date():
    call_command("permissions_doc", "--check")


def test_the_demo_prints_links_for_the_port_it_serves(data_dir):
    # given `make demo PORT=8101` (the Makefile passes the served address on)
    result = _ketacare(data_dir, "init-demo", KETACARE_PUBLIC_URL="http://127.0.0.1:8101")
    # then every printed link names that port, none the default
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8101/login/" in result.stdout
    assert "http://127.0.0.1:8101/portal/" in result.stdout
    assert ":8000" not in result.stdout


def test_the_makefile_passes_the_served_address_to_the_demo():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "KETACARE_PUBLIC_URL=$${KETACARE_PUBLIC_URL:-http://$(HOST):$(PORT)}" in makefile
    assert "DJANGO_DEBUG=0" in makefile


@pytest.mark.django_db
def test_demo_staff_and_patients_have_distinct_names():
    call_command("init_demo", verbosity=0)
    staff = [(u.first_name, u.last_name) for u in User.objects.all()]
    patients = [(p.given_name, p.family_name) for p in Patient.objects.all()]
    assert len(set(staff)) == len(staff)
    assert len(set(patients)) == len(patients)
    assert {p.mrn[0] for p in Patient.objects.all()} == {"N", "S"}


def test_the_plain_500_page_shows_no_debug_detail(rf):
    from ketacare.home.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content and b"Traceback" not in response.content
