"""What the schedule pages share: the clinic's today."""

from datetime import date

from django.http import HttpRequest

from ketacare.kernel import clock


def clinic_today(request: HttpRequest) -> date:
    """Today in the clinic's time zone (the pages run with it active)."""
    return clock.today()
