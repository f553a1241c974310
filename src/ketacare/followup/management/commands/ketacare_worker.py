"""`ketacare worker`: django-tasks-db's worker, after making sure the dispatch tick is queued."""

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from ketacare.followup.tasks import tick_ensure_scheduled


class Command(DatabaseWorkerCommand):
    help = (
        "Run background tasks: scheduled questionnaires, reminders and safety-alert notices. "
        "Queues the dispatch tick if none is waiting, then runs django-tasks-db's db_worker."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        tick_ensure_scheduled()
        super().handle(*args, **options)
