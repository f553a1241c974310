"""Backups proven by restoring them: a consistent copy, a signed manifest, a checked restore.

`backup` copies the database (SQLite's online backup API; `pg_dump` inside one repeatable-read
snapshot on PostgreSQL), counts every table's rows in that same snapshot, records every chain
head, and signs the manifest with the chain key. `--encrypt` seals the copy with a key kept
apart from it (Fernet: AES-128-CBC with HMAC-SHA-256, in 16 MiB chunks). `restore` refuses a
database that is not empty, checks the file's digest and the manifest's signature, loads the
copy, then requires every table's count to match and every chain to verify up to the heads
the manifest signed.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from ketacare.audit.chain import sign, signature_matches
from ketacare.audit.chained import VerifyReport, chain_heads, chains_checkpoint, chains_verify
from ketacare.audit.checkpoints import Heads
from ketacare.kernel import clock

MANIFEST = "manifest.json"
CHUNK = 16 * 1024 * 1024
MAGIC = b"KCBACKUP1\n"


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead, with the reason."""


def _fernet(key: bytes) -> Any:
    from cryptography.fernet import Fernet

    return Fernet(key)


def new_backup_key() -> bytes:
    """A fresh encryption key (keep it apart from the backups)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _encrypt(source: Path, target: Path, key: bytes) -> None:
    fernet = _fernet(key)
    with source.open("rb") as plain, target.open("wb") as sealed:
        sealed.write(MAGIC)
        for block in iter(lambda: plain.read(CHUNK), b""):
            token = fernet.encrypt(block)
            sealed.write(len(token).to_bytes(8, "big") + token)


def _decrypt(source: Path, target: Path, key: bytes) -> None:
    from cryptography.fernet import InvalidToken

    fernet = _fernet(key)
    with source.open("rb") as sealed, target.open("wb") as plain:
        if sealed.read(len(MAGIC)) != MAGIC:
            raise BackupError("The backup file is not an encrypted KetaCare backup.")
        while size_bytes := sealed.read(8):
            try:
                plain.write(fernet.decrypt(sealed.read(int.from_bytes(size_bytes, "big"))))
            except InvalidToken as error:
                raise BackupError("Wrong backup key, or the file was altered.") from error


def _table_names() -> list[str]:
    return sorted(connection.introspection.table_names())


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - names from introspection
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client).")
    return path


def _pg_environment() -> tuple[list[str], dict[str, str]]:
    settings = connection.settings_dict
    arguments = ["--no-password", "--dbname", str(settings["NAME"])]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            arguments += [option, str(settings[key])]
    environment = dict(os.environ)
    if settings.get("PASSWORD"):
        environment["PGPASSWORD"] = str(settings["PASSWORD"])
    return arguments, environment


@dataclass
class Manifest:
    """What a backup holds: its file, digest, row counts and chain heads, signed."""

    engine: str
    file: str
    created_at: str
    sha256: str
    encrypted: bool
    counts: dict[str, int]
    heads: dict[str, list[Any]]
    signature: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "signature"}


def backup_create(directory: Path, *, key: bytes | None = None) -> Manifest:
    """Write a consistent copy of the database and its signed manifest into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; give each backup its own directory.")
    chains_checkpoint()  # the checkpoint file agrees with what this backup holds
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        raw = Path(scratch) / "database"
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(raw)
            with target:
                connection.connection.backup(target)
            target.close()
            copy = sqlite3.connect(raw)
            tables = [t for t in _table_names() if not t.startswith("sqlite_")]
            counts = _counts(copy.cursor(), tables)
            rows = copy.execute("SELECT kind, key, last_seq, last_hash FROM audit_chainhead")
            heads: Heads = {f"{k}/{key_}": (seq, h) for k, key_, seq, h in rows.fetchall()}
            copy.close()
            engine, name = "sqlite", "ketacare.sqlite3"
        elif connection.vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                counts = _counts(cursor, _table_names())
                heads = chain_heads()
                arguments, environment = _pg_environment()
                subprocess.run(  # noqa: S603
                    [
                        _tool("pg_dump"),
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot}",
                        "--file",
                        str(raw),
                        *arguments,
                    ],  # fmt: skip
                    check=True,
                    env=environment,
                    capture_output=True,
                )
            engine, name = "postgresql", "ketacare.pgdump"
        else:  # pragma: no cover - only two engines are supported
            raise BackupError(f"Backups of {connection.vendor} are not supported.")
        digest = _sha256(raw)
        if key is not None:
            name += ".enc"
            _encrypt(raw, directory / name, key)
        else:
            shutil.move(raw, directory / name)
    manifest = Manifest(
        engine=engine,
        file=name,
        created_at=clock.wall_now().isoformat(timespec="seconds"),
        sha256=digest,
        encrypted=key is not None,
        counts=counts,
        heads={chain: list(head) for chain, head in sorted(heads.items())},
    )
    manifest.signature = sign(manifest.body())
    (directory / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=2, sort_keys=True))
    return manifest


def manifest_read(directory: Path) -> Manifest:
    """The backup's manifest, refused unless its signature is ours."""
    data = json.loads((directory / MANIFEST).read_text())
    manifest = Manifest(**data)
    if not signature_matches(manifest.body(), manifest.signature):
        raise BackupError("The manifest's signature does not match (altered, or another key).")
    return manifest


@dataclass(frozen=True)
class RestoreReport:
    """What a restore loaded and whether it matches its manifest."""

    counts_differ: dict[str, tuple[int, int]]
    verify: VerifyReport

    @property
    def ok(self) -> bool:
        return not self.counts_differ and self.verify.ok


def _database_is_empty() -> bool:
    tables = [t for t in _table_names() if not t.startswith("sqlite_")]
    return not tables


def backup_restore(directory: Path, *, key: bytes | None = None) -> RestoreReport:
    """Load a backup into this (empty) database, then check counts and chains against it."""
    manifest = manifest_read(directory)
    if manifest.engine != connection.vendor:
        raise BackupError(
            f"This is a {manifest.engine} backup; the database is {connection.vendor}."
        )
    if not _database_is_empty():
        raise BackupError("The database is not empty; restore only into an empty database.")
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "database"
        if manifest.encrypted:
            if key is None:
                raise BackupError("This backup is encrypted; give its key.")
            _decrypt(directory / manifest.file, plain, key)
        else:
            shutil.copyfile(directory / manifest.file, plain)
        if _sha256(plain) != manifest.sha256:
            raise BackupError("The backup file does not match its manifest's digest.")
        if manifest.engine == "sqlite":
            connection.ensure_connection()
            source = sqlite3.connect(plain)
            with source:
                source.backup(connection.connection)
            source.close()
        else:
            arguments, environment = _pg_environment()
            connection.close()
            subprocess.run(  # noqa: S603
                [
                    _tool("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    *arguments,
                    str(plain),
                ],  # fmt: skip
                check=True,
                env=environment,
                capture_output=True,
            )
    with connection.cursor() as cursor:
        counts = _counts(cursor, [t for t in _table_names() if not t.startswith("sqlite_")])
    differ = {
        table: (expected, counts.get(table, -1))
        for table, expected in manifest.counts.items()
        if counts.get(table, -1) != expected
    }
    pinned = {chain: (int(head[0]), str(head[1])) for chain, head in manifest.heads.items()}
    return RestoreReport(counts_differ=differ, verify=chains_verify(pinned=pinned))
