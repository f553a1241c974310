"""Background tasks (django-tasks, database backend), run by `ketacare worker`.

`questionnaires_tick` runs a dispatch pass and queues the next one; `ketacare worker` queues the
first when none is waiting. Each pass is idempotent, so an extra tick costs only a query.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from django_tasks import task
from django_tasks_db.models import DBTaskResult

from ketacare.dbstats import database_optimize
from ketacare.followup.dispatch import dispatch_pass
from ketacare.followup.portal import rate_counts_prune
from ketacare.followup.summaries import outcome_summaries_catch_up_all
from ketacare.kernel import clock

logger = logging.getLogger(__name__)

TICK_EVERY = timedelta(minutes=5)


@task()
def questionnaires_tick() -> dict[str, int]:
    """Plan and send due questionnaires and reminders, announce alerts, bring outcome summaries
    up to date, then queue the next."""
    now = clock.now()
    report = dispatch_pass(now=now)
    rate_counts_prune(now=now)
    # Keep the dashboard's and worklist's stored summaries and the planner's statistics current.
    outcome_summaries_catch_up_all()
    database_optimize()
    tick_ensure_scheduled(delay=TICK_EVERY)
    return asdict(report)


def tick_ensure_scheduled(*, delay: timedelta = timedelta(0)) -> bool:
    """Queue a tick unless one is already waiting; True when this call queued one."""
    waiting = DBTaskResult.objects.filter(
        task_path=questionnaires_tick.module_path, status="READY"
    ).exists()
    if waiting:
        return False
    questionnaires_tick.using(run_after=clock.wall_now() + delay).enqueue()
    return True
