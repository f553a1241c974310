"""Sessions of the actor's clinic, one session for the actor, and the clinic's day."""

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_today
from ketacare.patients.models import Patient
from ketacare.scheduling.selectors import clinic_zone, local_date
from ketacare.treatment.models import (
    SessionStatus,
    TreatmentSession,
)

S = SessionStatus


def sessions_of_clinic(*, actor: Actor) -> QuerySet[TreatmentSession]:
    """Every query for sessions starts here: the actor's clinic only."""
    return TreatmentSession.objects.filter(clinic_id=actor.clinic_id)


def session_get_for_actor(
    *,
    actor: Actor,
    session_id: int,
    permission: Permission = Permission.SESSION_VIEW,
    audit: bool = True,
) -> TreatmentSession:
    """One session of the actor's clinic with patient and course; another clinic's is 404."""
    actor.require(permission)
    session = (
        sessions_of_clinic(actor=actor)
        .select_related("clinic", "patient", "course", "appointment__chair", "checked_in_by")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise Http404("Session not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="treatment_session",
            object_id=session.pk,
            patient_id=session.patient_id,
        )
    return session


def today(*, actor: Actor) -> date:
    """Today in the clinic's time zone."""
    return clinic_today(actor.clinic)


def local_day(moment: datetime, clinic: Any) -> date:
    """The clinic-local calendar day of a moment."""
    return local_date(moment, clinic_zone(clinic))


def recent_discharge_of(*, patient: Patient, within: timedelta) -> TreatmentSession | None:
    """The patient's most recent discharged session within `within` of now (for aftercare)."""
    return (
        TreatmentSession.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            status=S.DISCHARGED,
            discharged_at__gte=clock.now() - within,
        )
        .order_by("-discharged_at")
        .first()
    )
