"""The day and week calendar."""

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse

from ketacare.accounts.permissions import Permission
from ketacare.kernel.bounds import query_date
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.scheduling import selectors
from ketacare.scheduling.views.common import clinic_today
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


def _day_param(request: HttpRequest) -> date:
    return query_date(request.GET, "date") or clinic_today(request)


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def schedule_day(request: HttpRequest) -> HttpResponse:
    """The day view: chairs as columns, time as rows, capacity per slot; click a slot to book."""
    actor = actor_of(request)
    day = _day_param(request)
    calendar = selectors.calendar_day(actor=actor, day=day, room=request.GET.get("room", ""))
    context = {
        "cal": calendar,
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "today": clinic_today(request),
        "week_start": day - timedelta(days=day.weekday()),
    }
    return render_page(request, "scheduling/day.html", context, partial="scheduling/_day_grid.html")


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def schedule_week(request: HttpRequest) -> HttpResponse:
    """The week view: days as columns, time as rows, chairs booked of chairs available."""
    actor = actor_of(request)
    day = _day_param(request)
    week_start = day - timedelta(days=day.weekday())
    calendar = selectors.calendar_week(
        actor=actor, week_start=week_start, room=request.GET.get("room", "")
    )
    context = {
        "cal": calendar,
        "day": day,
        "previous": week_start - timedelta(days=7),
        "next": week_start + timedelta(days=7),
        "today": clinic_today(request),
    }
    return render_page(request, "scheduling/week.html", context)


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def schedule_mine(request: HttpRequest) -> HttpResponse:
    """The signed-in therapist's bookings of the day (a fragment for their start page)."""
    actor = actor_of(request)
    day = clinic_today(request)
    context = {"bookings": selectors.therapist_day(actor=actor, day=day), "day": day}
    return render_page(
        request, "scheduling/my_day.html", context, partial="scheduling/_my_day.html"
    )
