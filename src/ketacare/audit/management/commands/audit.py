"""`ketacare audit verify|checkpoint`: check every chain against the signed checkpoints."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.audit.chained import chains_checkpoint
from ketacare.audit.checkpoints import checkpoint_path
from ketacare.audit.services import audit_verify


class Command(BaseCommand):
    help = "Verify the hash chains of the audit trail and every other append-only record."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="Recompute every chain; check it against checkpoints."
        )
        verify.add_argument(
            "--checkpoints",
            type=Path,
            default=None,
            help="Checkpoint file to hold the chains to (default: KETACARE_CHECKPOINT_FILE); "
            "point it at the copy shipped off the host.",
        )
        verify.add_argument(
            "--require-checkpoint",
            action="store_true",
            help="Fail when there is no checkpoint file (it is expected in production).",
        )
        checkpoint = sub.add_parser("checkpoint", help="Append a signed checkpoint of every head.")
        checkpoint.add_argument("--checkpoints", type=Path, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        path = options.get("checkpoints") or checkpoint_path()
        if options["action"] == "checkpoint":
            moved = chains_checkpoint(path)
            self.stdout.write(f"Checkpoint written to {path}: {moved} chain head(s) moved.")
            return
        if options["require_checkpoint"] and not path.exists():
            raise CommandError(f"No checkpoint file at {path}.")
        report = audit_verify(checkpoints=path)
        if report.ok:
            against = (
                f"against {report.checkpoint_lines} signed checkpoint(s), "
                f"last {report.checkpoint_at}"
                if report.checkpoint_lines
                else f"with no checkpoint at {path}: removal of the newest entries or of a whole "
                "chain cannot be detected"
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Chains intact: {report.entries} entries in {report.chains} chains, {against}."
                )
            )
            return
        for problem in report.problems:
            self.stderr.write(f"BROKEN: {problem.describe()}")
        raise CommandError(
            f"Verification failed in {len(report.problems)} chain(s); "
            f"first problem: {report.problems[0].describe()}"
        )
