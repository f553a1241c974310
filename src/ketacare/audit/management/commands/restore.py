"""`ketacare restore DIR`: load a backup into an empty database and prove it matches."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.audit.backup import BackupError, backup_restore
from ketacare.audit.management.commands.backup import backup_key


class Command(BaseCommand):
    help = "Restore a backup into an empty database, then check counts and chains against it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--key-file", help="File holding the backup key (else KETACARE_BACKUP_KEY)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = backup_restore(options["directory"], key=backup_key(options))
        except BackupError as error:
            raise CommandError(str(error)) from error
        for table, (expected, found) in sorted(report.counts_differ.items()):
            self.stderr.write(f"COUNT: {table}: manifest {expected}, restored {found}")
        for problem in report.verify.problems:
            self.stderr.write(f"BROKEN: {problem.describe()}")
        if not report.ok:
            raise CommandError("The restored database does not match its backup.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored and verified: every table's count matches the manifest; "
                f"{report.verify.entries} chained entries in {report.verify.chains} chains verify."
            )
        )
