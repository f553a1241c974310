"""`ketacare audit verify`: recompute every hash chain; non-zero exit names the first bad entry."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.audit.services import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Recompute every chain and report the first bad entry.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit trail intact: {report.entries} entries in {report.chains} chains."
                )
            )
            return
        for problem in report.problems:
            self.stderr.write(f"BROKEN: {problem.describe()}")
        raise CommandError(
            f"Audit trail verification failed in {len(report.problems)} chain(s); "
            f"first bad entry: {report.problems[0].describe()}"
        )
