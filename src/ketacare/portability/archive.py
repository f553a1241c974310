"""A clinic's whole record as one archive, and its import into an empty KetaCare.

The archive is a zip file:
  manifest.json            format, clinic, schema (migrations), counts and SHA-256 of every file
  tables/<app.model>.jsonl every row the clinic owns, one canonical JSON line per row, by id
  fhir/<Type>.ndjson        the clinical record as FHIR R4, for systems other than KetaCare

Tables carry what FHIR does not: the audit chain, signed documents with their hashes, settings,
and any table a newer app adds (see `tables.py`). Import checks every file's hash first, refuses
a KetaCare that already holds any of the rows, writes everything in one transaction keeping
primary keys (so audit hashes, which name ids, still verify), then re-hashes every table from
the database and rolls back unless each equals the manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import DateField, Model

from ketacare.accounts.models import Clinic, User
from ketacare.clinical.recovery import REDISCLOSURE_NOTICE_FULL
from ketacare.fhir.bulk import export_resources
from ketacare.fhir.registry import REGISTRY, BuildContext
from ketacare.kernel import clock
from ketacare.portability.tables import (
    Table,
    canonical_line,
    clinic_tables,
    digest,
    referenced_user_ids,
    table_lines,
)

FORMAT = "ketacare-clinic-archive/1"


class ArchiveError(Exception):
    """The archive cannot be written or imported, with the reason."""


@dataclass
class Manifest:
    """What an archive holds: every file's count and SHA-256."""

    clinic: dict[str, Any]
    schema: dict[str, str]
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    fhir: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: str = ""
    # The notice against redisclosure (42 CFR 2.32) when the archive carries records of a
    # substance-use-disorder programme (any row of the recovery app: fail closed).
    redisclosure_notice: str = ""

    def as_json(self) -> dict[str, Any]:
        body = {
            "format": FORMAT,
            "created_at": self.created_at,
            "clinic": self.clinic,
            "schema": self.schema,
            "tables": self.tables,
            "fhir": self.fhir,
        }
        if self.redisclosure_notice:
            body["redisclosure_notice"] = self.redisclosure_notice
        return body


def schema_state() -> dict[str, str]:
    """The latest applied migration of each app (what the archive's rows were shaped by)."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


def _write_member(archive: zipfile.ZipFile, name: str, lines: Iterator[bytes]) -> dict[str, Any]:
    sha = hashlib.sha256()
    count = 0
    with archive.open(name, "w", force_zip64=True) as out:
        for line in lines:
            out.write(line)
            sha.update(line)
            count += 1
    return {"count": count, "sha256": sha.hexdigest()}


def clinic_export(*, slug: str, path: Path) -> Manifest:
    """Write everything the clinic owns to a zip archive; return its manifest."""
    clinic = Clinic.objects.filter(slug=slug).first()
    if clinic is None:
        raise ArchiveError(f"No clinic '{slug}'.")
    tables = clinic_tables()
    users = referenced_user_ids(clinic, tables)
    manifest = Manifest(
        clinic={"id": clinic.pk, "slug": clinic.slug, "name": clinic.name},
        schema=schema_state(),
        created_at=clock.wall_now().isoformat(),
    )
    ctx = BuildContext(clinic=clinic)
    with transaction.atomic(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        # One transaction: every table is read at the same moment on PostgreSQL.
        for table in tables:
            manifest.tables[table.label] = _write_member(
                archive, f"tables/{table.label}.jsonl", table_lines(table, clinic, users)
            )
        for name, resource_type in sorted(REGISTRY.items()):
            lines = (canonical_line(r) for r in export_resources(resource_type, ctx))
            manifest.fhir[name] = _write_member(archive, f"fhir/{name}.ndjson", lines)
        if any(
            label.startswith("recovery.") and member["count"]
            for label, member in manifest.tables.items()
        ):
            manifest.redisclosure_notice = REDISCLOSURE_NOTICE_FULL
            archive.writestr("NOTICE-42-CFR-PART-2.txt", REDISCLOSURE_NOTICE_FULL + "\n")
        archive.writestr("manifest.json", json.dumps(manifest.as_json(), indent=2, sort_keys=True))
    return manifest


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The archive's manifest, checked for its format."""
    try:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as error:
        raise ArchiveError(f"The archive has no readable manifest: {error}") from None
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"Unknown archive format {manifest.get('format')!r}; expected {FORMAT}.")
    return manifest


def _check_hashes(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    for folder, suffix, entries in (
        ("tables", "jsonl", manifest["tables"]),
        ("fhir", "ndjson", manifest["fhir"]),
    ):
        for name, expected in entries.items():
            with archive.open(f"{folder}/{name}.{suffix}") as member:
                count, sha = digest(iter(member))
            if (count, sha) != (expected["count"], expected["sha256"]):
                raise ArchiveError(
                    f"{folder}/{name}.{suffix} does not match the manifest "
                    f"({count} rows, sha256 {sha[:12]}…): the archive is damaged or altered."
                )


def _check_schema(manifest: dict[str, Any]) -> None:
    here = schema_state()
    newer = [
        f"{app} {name}" for app, name in manifest["schema"].items() if here.get(app, "") < name
    ]
    if newer:
        raise ArchiveError(
            "The archive comes from a newer KetaCare (migrations not applied here: "
            + ", ".join(newer)
            + "); upgrade this KetaCare and run `ketacare migrate` first."
        )


@contextlib.contextmanager
def _stored_times(model: type[Model]) -> Iterator[None]:
    """Keep the archive's timestamps: switch off auto_now/auto_now_add while rows go in."""
    changed = []
    for f in model._meta.concrete_fields:
        if isinstance(f, DateField) and (f.auto_now or f.auto_now_add):
            changed.append((f, f.auto_now, f.auto_now_add))
            f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, now_add in changed:
            f.auto_now, f.auto_now_add = now, now_add


def _instances(table: Table, member: IO[bytes]) -> Iterator[Model]:
    fields = {f.attname: f for f in table.model._meta.concrete_fields}
    for line in member:
        data = json.loads(line)
        values = {}
        for name, value in data.items():
            fld = fields.get(name)
            if fld is None:
                raise ArchiveError(f"{table.label} has no column '{name}' here.")
            values[name] = None if value is None else fld.to_python(value)
        yield table.model(**values)


def _users_to_add(archive: zipfile.ZipFile) -> list[int]:
    """Archive users not here yet; a user already here must be the same person (same name)."""
    wanted: dict[int, str] = {}
    with archive.open("tables/accounts.user.jsonl") as member:
        for line in member:
            data = json.loads(line)
            wanted[data["id"]] = data["username"]
    present = dict(User.objects.filter(pk__in=wanted).values_list("pk", "username"))
    clash = [
        f"{pk} ({present[pk]} here, {name} in the archive)"
        for pk, name in wanted.items()
        if pk in present and present[pk] != name
    ]
    if clash:
        raise ArchiveError(f"User ids already taken by other users: {', '.join(clash)}.")
    by_name = User.objects.filter(username__in=wanted.values()).exclude(pk__in=wanted)
    if by_name.exists():
        raise ArchiveError(
            f"Usernames already used by other users here: "
            f"{', '.join(by_name.values_list('username', flat=True))}."
        )
    return sorted(pk for pk in wanted if pk not in present)


def _ids_in(archive: zipfile.ZipFile, table: Table) -> list[Any]:
    pk = table.model._meta.pk.attname
    with archive.open(f"tables/{table.label}.jsonl") as member:
        return [json.loads(line)[pk] for line in member]


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    clinic: str
    tables: dict[str, int]


def clinic_import(*, path: Path) -> ImportReport:
    """Load an archive into this KetaCare, which must not hold any of its rows."""
    with zipfile.ZipFile(path) as archive:
        manifest = read_manifest(archive)
        _check_hashes(archive, manifest)
        _check_schema(manifest)
        tables = {t.label: t for t in clinic_tables()}
        missing = sorted(set(manifest["tables"]) - set(tables))
        if missing:
            raise ArchiveError(f"This KetaCare has no table for {', '.join(missing)}.")
        slug = manifest["clinic"]["slug"]
        if (
            Clinic.objects.filter(slug=slug).exists()
            or Clinic.objects.filter(pk=manifest["clinic"]["id"]).exists()
        ):
            raise ArchiveError(f"Clinic '{slug}' (or its id) is already here.")
        new_users = _users_to_add(archive)
        written: dict[str, int] = {}
        with transaction.atomic():
            for label in manifest["tables"]:
                table = tables[label]
                ids = _ids_in(archive, table)
                if label == "accounts.user":
                    ids = new_users
                elif table.model._default_manager.filter(pk__in=ids[:50000]).exists():
                    raise ArchiveError(f"{label} already holds rows with the archive's ids.")
                with archive.open(f"tables/{label}.jsonl") as member, _stored_times(table.model):
                    rows = [
                        row
                        for row in _instances(table, member)
                        if label != "accounts.user" or row.pk in ids
                    ]
                    for start in range(0, len(rows), 1000):
                        table.model._default_manager.bulk_create(rows[start : start + 1000])
                    written[label] = len(rows)
            _reset_sequences([tables[label] for label in manifest["tables"]])
            _verify_against(manifest, tables)
    return ImportReport(clinic=slug, tables=written)


def _reset_sequences(tables: list[Table]) -> None:
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), [t.model for t in tables])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _verify_against(manifest: dict[str, Any], tables: dict[str, Table]) -> None:
    clinic = Clinic.objects.get(pk=manifest["clinic"]["id"])
    users = referenced_user_ids(clinic, list(tables.values()))
    for label, expected in manifest["tables"].items():
        count, sha = digest(table_lines(tables[label], clinic, users))
        if (count, sha) != (expected["count"], expected["sha256"]):
            raise ArchiveError(
                f"{label} reads back as {count} rows (sha256 {sha[:12]}…), not as the archive "
                f"holds ({expected['count']} rows): nothing was imported."
            )
