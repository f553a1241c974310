"""Background tasks of the outcomes app (django-tasks, database backend), run by the worker."""

from __future__ import annotations

from django_tasks import task

from ketacare.kernel import clock
from ketacare.outcomes.notices import alert_notify_staff_once


@task()
def alert_notify_staff(alert_id: int) -> bool:
    """E-mail the clinic's care team that a safety alert is open (once per alert)."""
    return alert_notify_staff_once(alert_id=alert_id, now=clock.now())
