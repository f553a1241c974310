"""`ketacare synth --patients N --clinics K`: build a synthetic clinic network."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.synth.network import NetworkSpec, build_network


class Command(BaseCommand):
    help = "Generate a deterministic synthetic network of clinics and patients (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=1000)
        parser.add_argument("--clinics", type=int, default=5)
        parser.add_argument("--seed", type=int, default=16)
        parser.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
        parser.add_argument("--history-days", type=int, default=3 * 365)
        parser.add_argument("--audit-per-patient", type=int, default=70)
        parser.add_argument("--prefix", default="synth", help="Clinic slugs are PREFIX-1 ...")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 1 or options["clinics"] < 1:
            raise CommandError("--patients and --clinics must be at least 1")
        extra = {"today": options["today"]} if options["today"] else {}
        spec = NetworkSpec(
            patients=options["patients"],
            clinics=options["clinics"],
            seed=options["seed"],
            history_days=options["history_days"],
            audit_per_patient=options["audit_per_patient"],
            slug_prefix=options["prefix"],
            **extra,
        )
        try:
            report = build_network(spec, progress=self.stdout.write)
        except ValueError as error:
            raise CommandError(str(error)) from error
        for table, rows in sorted(report.rows.items()):
            self.stdout.write(f"  {table:<40} {rows:>10,}")
        clinics = ", ".join(f"{slug} ({size})" for slug, size in report.clinics)
        self.stdout.write(f"Built {clinics} in {report.seconds:.1f} s.")
        self.stdout.write(
            f"Staff sign in as <clinic>.admin1, .prescriber1, .nurse1 … "
            f"with the password {report.password!r}."
        )
