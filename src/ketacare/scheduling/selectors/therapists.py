"""The clinic's therapists, and a therapist's integration sessions of a day."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.db.models import QuerySet
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import User
from ketacare.accounts.permissions import Permission
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.scheduling.models import Appointment, overlapping
from ketacare.scheduling.selectors.times import OCCUPYING_STATUSES, at_local, clinic_zone


def _therapists(clinic_id: int) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        memberships__clinic_id=clinic_id,
        memberships__role=Role.THERAPIST,
        memberships__is_active=True,
    )


def therapists_of_clinic(*, actor: Actor) -> list[User]:
    """The clinic's active therapists, by name: who an integration session may be booked with."""
    actor.require(Permission.SCHEDULE_VIEW)
    return list(_therapists(actor.clinic_id).order_by("last_name", "first_name", "pk"))


def therapist_get_for_actor(*, actor: Actor, therapist_id: int) -> User:
    """One active therapist of the actor's clinic; anyone else (another clinic's therapist, a
    nurse, a former member) is not found."""
    actor.require(Permission.SCHEDULE_VIEW)
    therapist = _therapists(actor.clinic_id).filter(pk=therapist_id).first()
    if therapist is None:
        raise Http404("Therapist not found.")
    return therapist


def is_clinic_therapist(*, clinic_id: int, user_id: int) -> bool:
    """Whether the user is an active therapist of the clinic (the booking service's fact)."""
    return _therapists(clinic_id).filter(pk=user_id).exists()


def therapist_day(*, actor: Actor, day: date) -> list[Appointment]:
    """The actor's own bookings as therapist on a clinic-local day (cancelled ones left out),
    patient and chair loaded; audited."""
    actor.require(Permission.SCHEDULE_VIEW)
    zone = clinic_zone(actor.clinic)
    start = at_local(day, time(0), zone)
    end = at_local(day + timedelta(days=1), time(0), zone)
    found = list(
        Appointment.objects.filter(
            overlapping(start, end),
            clinic_id=actor.clinic_id,
            therapist_id=actor.user.pk,
            status__in=OCCUPYING_STATUSES,
        )
        .select_related("patient", "chair")
        .order_by("starts_at", "id")
    )
    if found:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="appointment",
            detail={"therapist_id": actor.user.pk, "appointment_ids": [a.pk for a in found]},
        )
    return found
