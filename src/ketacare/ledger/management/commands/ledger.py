"""`ketacare ledger verify|reconcile`: the ledger's chain and its agreement with the sessions."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.accounts.models import Clinic
from ketacare.ledger.selectors import ledger_verify, reconcile_clinic


class Command(BaseCommand):
    help = "Verify the controlled-substance ledger's chain, or reconcile it with the sessions."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Recompute every clinic's chain; report the first bad entry.")
        reconcile = sub.add_parser(
            "reconcile",
            help="Doses without a ledger entry and ledger administrations without a dose.",
        )
        reconcile.add_argument("--clinic", help="One clinic's slug (default: every clinic).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify()
        else:
            self._reconcile(options.get("clinic"))

    def _verify(self) -> None:
        result = ledger_verify()
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Ledger intact: {result.entries} entries in {result.chains} clinic chain(s)"
                    f" ({result.checkpoint_lines} signed checkpoint lines)."
                )
            )
            return
        for problem in result.problems:
            self.stderr.write(f"BROKEN: {problem.describe()}")
        raise CommandError(
            f"Ledger verification failed in {len(result.problems)} chain(s); first: "
            f"{result.problems[0].describe()}"
        )

    def _reconcile(self, slug: str | None) -> None:
        clinics = Clinic.objects.order_by("slug")
        if slug:
            clinics = clinics.filter(slug=slug)
            if not clinics.exists():
                raise CommandError(f"No clinic '{slug}'.")
        problems = 0
        for clinic in clinics:
            result = reconcile_clinic(clinic_id=clinic.pk)
            for dose in result.doses_without_entry:
                self.stderr.write(
                    f"{clinic.slug}: session {dose.session_id}: {dose.dose_mg} mg given, "
                    "no ledger administration"
                )
            for entry in result.entries_without_session:
                self.stderr.write(
                    f"{clinic.slug}: ledger entry id {entry.entry_id}: {entry.dose_mg} mg "
                    f"administered, no dose in session {entry.session_id}"
                )
            for dose, recorded in result.mismatched:
                self.stderr.write(
                    f"{clinic.slug}: session {dose.session_id}: {dose.dose_mg} mg given, "
                    f"{recorded} mg in the ledger"
                )
            problems += (
                len(result.doses_without_entry)
                + len(result.entries_without_session)
                + len(result.mismatched)
            )
        if problems:
            raise CommandError(f"The ledger does not reconcile: {problems} problem(s).")
        self.stdout.write(self.style.SUCCESS("Every dose given is in the ledger, and the reverse."))
