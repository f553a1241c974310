"""A backup is proven by restoring it into an empty database and verifying it there."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ketacare.audit.backup import new_backup_key
from ketacare.audit.services import audit_record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trail(world, settings, tmp_path):
    settings.KETACARE_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    client = world.web(world.staff["nurse"])
    for _ in range(3):
        client.get(f"/patients/{world.patient_a.pk}/")
    audit_record(actor=None, action="read", clinic_id=world.clinic_b.pk)
    return world


@pytest.fixture
def empty_database(tmp_path):
    """Environment for a `ketacare` process whose database is new and empty."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "ketacare.config.settings"
    env["KETACARE_DATA_DIR"] = str(tmp_path / "restored")
    if connection.vendor == "sqlite":
        yield env
        return
    settings = connection.settings_dict
    name = f"kc_restore_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    user, host, port = settings["USER"], settings["HOST"], settings["PORT"] or 5432
    env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{name}"
    yield env
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ketacare(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "ketacare.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_backup_restores_into_an_empty_database_that_verifies_and_matches(
    trail, tmp_path, empty_database, encrypted, capsys
):
    # given a backup of a database with an audit trail
    backup = tmp_path / "backup"
    options = []
    if encrypted:
        key_file = tmp_path / "backup.key"
        key_file.write_bytes(new_backup_key())
        options = ["--encrypt", "--key-file", str(key_file)]
    call_command("backup", str(backup), *options)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["counts"]["audit_auditentry"] >= 4 and manifest["encrypted"] is encrypted
    # when it is restored into an empty database
    restore_options = ["--key-file", str(tmp_path / "backup.key")] if encrypted else []
    restored = _ketacare(empty_database, "restore", str(backup), *restore_options)
    # then every count matches and every chain verifies up to the manifest's heads
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Restored and verified" in restored.stdout
    verified = _ketacare(empty_database, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    # and restoring again is refused: the database is no longer empty
    again = _ketacare(empty_database, "restore", str(backup), *restore_options)
    assert again.returncode != 0 and "not empty" in again.stderr


def test_a_manifest_altered_after_the_backup_is_refused(trail, tmp_path, empty_database):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["counts"]["audit_auditentry"] -= 1
    (backup / "manifest.json").write_text(json.dumps(manifest))
    refused = _ketacare(empty_database, "restore", str(backup))
    assert refused.returncode != 0 and "signature" in refused.stderr


def test_an_encrypted_backup_needs_its_key(trail, tmp_path):
    with pytest.raises(CommandError, match="KETACARE_BACKUP_KEY"):
        call_command("backup", str(tmp_path / "b"), "--encrypt")
