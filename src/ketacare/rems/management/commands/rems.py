"""`ketacare rems verify`: the signed monitoring forms' chain, and every signed form against it."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.rems.signatures import verify


class Command(BaseCommand):
    help = "Verify the signed REMS monitoring forms against their chained signatures."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "verify",
            help="Recompute the signatures' chains; find a signed form edited after signing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Signed monitoring forms intact: {result.signed_forms} signed form(s), "
                    f"{result.signatures} signature(s) in {result.chains} clinic chain(s)."
                )
            )
            return
        for problem in result.problems:
            self.stderr.write(f"BROKEN: {problem}")
        raise CommandError(
            f"Signed monitoring forms failed verification ({len(result.problems)} problem(s)); "
            f"first: {result.problems[0]}"
        )
