"""`ketacare outcomes-refresh`: bring every clinic's outcome summaries up to date now."""

from typing import Any

from django.core.management.base import BaseCommand

from ketacare.followup.summaries import outcome_summaries_catch_up_all


class Command(BaseCommand):
    help = "Recompute the outcome summaries of every patient whose scores or courses changed."

    def handle(self, *args: Any, **options: Any) -> None:
        patients = outcome_summaries_catch_up_all()
        self.stdout.write(f"Outcome summaries: {patients} patients recomputed.")
