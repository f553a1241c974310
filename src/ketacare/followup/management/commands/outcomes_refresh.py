"""`ketacare outcomes-refresh [--clinic SLUG]`: bring outcome summaries up to date now."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.accounts.models import Clinic
from ketacare.followup.summaries import outcome_summaries_catch_up, outcome_summaries_catch_up_all


class Command(BaseCommand):
    help = "Recompute the outcome summaries of every patient whose scores or courses changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", default="", help="Only this clinic (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clinic"]:
            clinic = Clinic.objects.filter(slug=options["clinic"]).first()
            if clinic is None:
                raise CommandError(f"No clinic {options['clinic']!r}.")
            patients = outcome_summaries_catch_up(clinic=clinic, overlap=True)
        else:
            patients = outcome_summaries_catch_up_all()
        self.stdout.write(f"Outcome summaries: {patients} patients recomputed.")
