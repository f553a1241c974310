"""The staff iCalendar feed, at a secret URL (token, not sign-in)."""

import hashlib
from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from ketacare.accounts.access import client_address
from ketacare.accounts.models import hash_token
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.kernel import clock
from ketacare.scheduling import selectors
from ketacare.scheduling.ical import FeedEvent, render_calendar

# The feed's window: a fortnight back, eight weeks ahead, and at most this many events (a
# calendar client polls the whole feed every few minutes; a clinic's full history is not its job).
FEED_PAST_DAYS = 14
FEED_FUTURE_DAYS = 56
FEED_EVENT_LIMIT = 1000


@require_GET
def schedule_feed(request: HttpRequest) -> HttpResponse:
    """The clinic's iCalendar feed for staff calendars, at a secret URL (token, not sign-in).

    Initials, appointment type and chair only: no names, no MRN. A wrong or rotated token
    is 404. Every fetch is audited as an export.
    """
    token = request.GET.get("token", "")
    if not token or len(token) > 128:
        raise Http404("Calendar feed not found.")
    feed = selectors.calendar_feed_for_token(token_hash=hash_token(token))
    if feed is None:
        raise Http404("Calendar feed not found.")
    clinic = feed.clinic
    now = clock.now()
    appointments = selectors.feed_appointments(
        clinic=clinic,
        start=now - timedelta(days=FEED_PAST_DAYS),
        end=now + timedelta(days=FEED_FUTURE_DAYS),
        limit=FEED_EVENT_LIMIT,
    )
    events = [
        FeedEvent(
            uid=f"appointment-{a.pk}@{clinic.slug}.ketacare",
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            summary=" · ".join(
                part
                for part in (
                    a.patient.initials,
                    a.get_kind_display(),
                    a.chair and a.chair.label,
                    a.therapist and f"with {a.therapist.display_name()}",
                )
                if part
            ),
            location=str(a.chair) if a.chair else "",
            description=f"Status: {a.get_status_display()}",
        )
        for a in appointments
    ]
    audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        clinic_id=clinic.pk,
        object_type="calendar_feed",
        object_id=feed.pk,
        username="calendar-feed",
        client_address=client_address(request),
        # What went out, without a list that grows with the clinic: the window, the count and a
        # digest of the ids in order, against which a reconstructed list can be checked.
        detail={
            "from": (now - timedelta(days=FEED_PAST_DAYS)).isoformat(),
            "until": (now + timedelta(days=FEED_FUTURE_DAYS)).isoformat(),
            "count": len(appointments),
            "ids_sha256": hashlib.sha256(
                ",".join(str(a.pk) for a in appointments).encode()
            ).hexdigest(),
        },
    )
    body = render_calendar(
        events, name=f"{clinic.name} appointments", stamped_at=now, product="-//KetaCare//EN"
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
