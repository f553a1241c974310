"""`ketacare import ARCHIVE`: load a clinic's archive into this (empty) KetaCare."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.audit.chained import chains_checkpoint
from ketacare.audit.services import audit_verify
from ketacare.portability.archive import ArchiveError, clinic_import


class Command(BaseCommand):
    help = "Import a clinic archive written by `ketacare export`; checks every hash."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("archive", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = clinic_import(path=options["archive"])
        except (ArchiveError, OSError) as error:
            raise CommandError(str(error)) from None
        rows = sum(report.tables.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported clinic '{report.clinic}': {rows} rows in {len(report.tables)} tables; "
                "every table matches the manifest."
            )
        )
        # The imported chains' heads join this KetaCare's signed checkpoints from now on.
        chains_checkpoint()
        verified = audit_verify()
        if not verified.ok:
            raise CommandError(
                "Audit chains do not verify: " + "; ".join(p.describe() for p in verified.problems)
            )
        self.stdout.write(f"Audit chains verify ({verified.chains} chains).")
