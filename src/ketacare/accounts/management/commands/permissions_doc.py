"""`ketacare permissions-doc [--check]`: write docs/permissions.md from the permission table."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.accounts.permissions import render_permission_table


class Command(BaseCommand):
    help = "Render the permission table to docs/permissions.md."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--output", default="docs/permissions.md")
        parser.add_argument("--check", action="store_true", help="Fail if the file is out of date.")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(options["output"])
        text = render_permission_table()
        if options["check"]:
            if not target.exists() or target.read_text() != text:
                raise CommandError(f"{target} is out of date; run `ketacare permissions-doc`.")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        self.stdout.write(f"Wrote {target}.")
