"""`ketacare backup DIR [--encrypt]`: a consistent copy of the database with a signed manifest."""

import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.audit.backup import BackupError, backup_create, new_backup_key


def backup_key(options: dict[str, Any]) -> bytes | None:
    """The encryption key from --key-file or KETACARE_BACKUP_KEY, if one is given."""
    if options.get("key_file"):
        return Path(options["key_file"]).read_bytes().strip()
    key = os.environ.get("KETACARE_BACKUP_KEY", "")
    return key.encode() if key else None


class Command(BaseCommand):
    help = "Back up the database (SQLite online backup, or pg_dump) with a signed manifest."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("directory", nargs="?", type=Path)
        parser.add_argument("--encrypt", action="store_true", help="Encrypt with the backup key.")
        parser.add_argument(
            "--key-file", help="File holding the backup key (else KETACARE_BACKUP_KEY)."
        )
        parser.add_argument(
            "--new-key", action="store_true", help="Print a new backup key and stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(new_backup_key().decode())
            return
        if options["directory"] is None:
            raise CommandError("Give the directory to write the backup into.")
        key = backup_key(options) if options["encrypt"] else None
        if options["encrypt"] and key is None:
            raise CommandError("--encrypt needs --key-file or KETACARE_BACKUP_KEY.")
        try:
            manifest = backup_create(options["directory"], key=key)
        except BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest.counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {options['directory']}: {manifest.file} "
                f"({manifest.engine}, {rows} rows in {len(manifest.counts)} tables, "
                f"{len(manifest.heads)} chains{', encrypted' if manifest.encrypted else ''})."
            )
        )
