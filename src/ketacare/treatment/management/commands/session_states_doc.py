"""`ketacare session-states-doc [--check]`: write docs/session-states.md from the state table."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.treatment.state_diagram import render_state_diagram


class Command(BaseCommand):
    help = "Render the session state table to docs/session-states.md."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--output", default="docs/session-states.md")
        parser.add_argument("--check", action="store_true", help="Fail if the file is out of date.")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(options["output"])
        text = render_state_diagram()
        if options["check"]:
            if not target.exists() or target.read_text() != text:
                raise CommandError(f"{target} is out of date; run `ketacare session-states-doc`.")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        self.stdout.write(f"Wrote {target}.")
