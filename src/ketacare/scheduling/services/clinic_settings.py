"""Chairs, the clinic's opening schedule, and the calendar feed's secret link."""

from __future__ import annotations

import secrets
from datetime import datetime, time

from django.db import IntegrityError, transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.models import hash_token
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.kernel.versions import stale_version
from ketacare.scheduling.models import (
    Appointment,
    AppointmentStatus,
    CalendarFeed,
    Chair,
    ClinicSchedule,
)
from ketacare.scheduling.selectors import (
    route_minimum_minutes,
)
from ketacare.scheduling.services.common import _lock_chairs, _now, _same_clinic

# --- chairs, clinic schedule and the calendar feed ----------------------------------------------


@transaction.atomic
def chair_create(*, actor: Actor, room: str, label: str) -> Chair:
    """Add a chair to a room of the actor's clinic."""
    actor.require(Permission.CLINIC_MANAGE)
    room, label = room.strip(), label.strip()
    if not room or not label:
        raise Refused("Name the room and the chair.", field="label" if room else "room")
    if Chair.objects.filter(clinic_id=actor.clinic_id, room=room, label=label).exists():
        raise Conflict(f"{room} already has a chair called {label}.", field="label")
    try:
        with transaction.atomic():
            chair = Chair.objects.create(clinic_id=actor.clinic_id, room=room, label=label)
    except IntegrityError as exc:
        raise Conflict(f"{room} already has a chair called {label}.", field="label") from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="chair",
        object_id=chair.pk,
        detail={"room": room, "label": label},
    )
    return chair


@transaction.atomic
def chair_set_active(
    *, actor: Actor, chair: Chair, is_active: bool, now: datetime | None = None
) -> Chair:
    """Put a chair out of use (refused while future bookings use it) or back into use."""
    actor.require(Permission.CLINIC_MANAGE)
    _same_clinic(actor, chair)
    _lock_chairs([chair])
    if not is_active:
        upcoming = Appointment.objects.filter(
            clinic_id=actor.clinic_id,
            chair=chair,
            status=AppointmentStatus.BOOKED,
            starts_at__gte=_now(now),
        ).count()
        if upcoming:
            raise Refused(
                f"{chair} has {upcoming} upcoming booking(s); move them to another chair first.",
                field="is_active",
                code="chair_in_use",
            )
    Chair.objects.filter(pk=chair.pk).update(is_active=is_active)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="chair",
        object_id=chair.pk,
        detail={"is_active": is_active},
    )
    chair.refresh_from_db()
    return chair


@transaction.atomic
def clinic_schedule_update(
    *,
    actor: Actor,
    version: int,
    open_weekdays: list[int],
    opens_at: time,
    closes_at: time,
    slot_minutes: int,
    session_minutes: dict[str, int],
) -> ClinicSchedule:
    """Set the clinic's opening days and hours, calendar slot and chair time per route.

    A route's chair time may be longer than its protocols need, never shorter.
    """
    actor.require(Permission.CLINIC_MANAGE)
    days = sorted(set(open_weekdays))
    if not days or any(day not in range(7) for day in days):
        raise Refused("Choose at least one day, 0 (Monday) to 6 (Sunday).", field="open_weekdays")
    if closes_at <= opens_at:
        raise Refused("Closing must be after opening.", field="closes_at")
    if slot_minutes not in (10, 15, 20, 30, 60):
        raise Refused("The calendar slot is 10, 15, 20, 30 or 60 minutes.", field="slot_minutes")
    minimum = route_minimum_minutes()
    cleaned: dict[str, int] = {}
    for route, minutes in session_minutes.items():
        if route not in minimum:
            raise Refused(f"Unknown route {route!r}.", field="session_minutes")
        if minutes < minimum[route]:
            raise Refused(
                f"A {route} session needs at least {minimum[route]} minutes in the chair "
                "(the protocol's dosing and observation time).",
                field="session_minutes",
            )
        cleaned[route] = int(minutes)
    schedule, created = ClinicSchedule.objects.select_for_update().get_or_create(
        clinic_id=actor.clinic_id
    )
    if not created and schedule.version != version:
        raise stale_version("schedule", seen=version, current=schedule.version)
    values = {
        "open_weekdays": days,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "slot_minutes": slot_minutes,
        "session_minutes": cleaned,
    }
    ClinicSchedule.objects.filter(pk=schedule.pk).update(
        **values, version=schedule.version + (0 if created else 1)
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="clinic_schedule",
        object_id=schedule.pk,
        detail={
            **values,
            "opens_at": opens_at.isoformat(),
            "closes_at": closes_at.isoformat(),
        },
    )
    schedule.refresh_from_db()
    return schedule


@transaction.atomic
def calendar_feed_rotate(*, actor: Actor) -> str:
    """Issue a new secret feed token for the clinic (the old URL stops working); returns it.

    Only the token's hash is stored, so the URL can be shown once, now.
    """
    actor.require(Permission.CLINIC_MANAGE)
    moment = clock.now()
    revoked = list(
        CalendarFeed.objects.select_for_update()
        .filter(clinic_id=actor.clinic_id, revoked_at__isnull=True)
        .values_list("pk", flat=True)
    )
    CalendarFeed.objects.filter(pk__in=revoked).update(revoked_at=moment)
    raw = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        clinic_id=actor.clinic_id, token_hash=hash_token(raw), created_by=actor.user
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="calendar_feed",
        object_id=feed.pk,
        detail={"revoked": revoked},
    )
    return raw
