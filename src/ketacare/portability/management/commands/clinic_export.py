"""`ketacare export --clinic SLUG ARCHIVE`: everything a clinic owns, with a manifest."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.portability.archive import ArchiveError, clinic_export


class Command(BaseCommand):
    help = "Write a clinic's whole record (tables, audit chain, FHIR NDJSON) to a zip archive."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--clinic", required=True, help="The clinic's slug")
        parser.add_argument("archive", type=Path, help="Where to write the archive (.zip)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["archive"]
        if path.exists():
            raise CommandError(f"{path} exists; choose a new file.")
        try:
            manifest = clinic_export(slug=options["clinic"], path=path)
        except ArchiveError as error:
            path.unlink(missing_ok=True)
            raise CommandError(str(error)) from None
        # After the archive is written, so its own audit chain is the state exported.
        audit_record(
            actor=None,
            action=AuditAction.EXPORT,
            object_type="clinic_archive",
            object_id=manifest.clinic["slug"],
            clinic_id=manifest.clinic["id"],
            username="ketacare export",
            detail={"file": path.name, "tables": len(manifest.tables)},
        )
        rows = sum(t["count"] for t in manifest.tables.values())
        resources = sum(f["count"] for f in manifest.fhir.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {path}: {rows} rows in {len(manifest.tables)} tables, "
                f"{resources} FHIR resources."
            )
        )
