"""Clinic time: the clinic's zone and local days, opening settings, and session lengths."""

from __future__ import annotations

from ketacare.accounts.models import Clinic
from ketacare.clinical.protocols import Protocol, load_protocols
from ketacare.clinical.timing import chair_minutes
from ketacare.kernel.clinic_time import at_local, clinic_zone, local_date
from ketacare.scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    AppointmentKind,
    ClinicSchedule,
)

# Appointments that are sessions of a course: the protocol's limits apply to these.
SESSION_KINDS = (AppointmentKind.TREATMENT, AppointmentKind.BOOSTER)
# Appointments that occupy their chair on the calendar (cancelled and no-show ones do not).
OCCUPYING_STATUSES = ACTIVE_APPOINTMENT_STATUSES

__all__ = ["at_local", "clinic_zone", "local_date"]  # clinic time lives in the kernel


# --- clinic settings and session length --------------------------------------------------------


def clinic_schedule_for(*, clinic: Clinic) -> ClinicSchedule:
    """The clinic's schedule settings, or the defaults (unsaved) when none were set."""
    schedule = ClinicSchedule.objects.filter(clinic_id=clinic.pk).first()
    return schedule if schedule is not None else ClinicSchedule(clinic=clinic)


def protocol_session_minutes(protocol: Protocol) -> int:
    """Chair time a protocol's session needs: the core's `timing.chair_minutes` (dosing time
    plus the monitoring profile's minimum observation), never a second sum here."""
    return chair_minutes(protocol)


def route_minimum_minutes() -> dict[str, int]:
    """For each route, the longest chair time any of its protocols needs."""
    minimum: dict[str, int] = {}
    for protocol in load_protocols().values():
        minimum[protocol.route] = max(
            minimum.get(protocol.route, 0), protocol_session_minutes(protocol)
        )
    return minimum


def session_minutes_for(*, schedule: ClinicSchedule, protocol: Protocol) -> int:
    """Chair time for one session: the clinic's time for the route, never below the protocol's."""
    required = protocol_session_minutes(protocol)
    configured = (schedule.session_minutes or {}).get(protocol.route)
    return max(required, int(configured)) if configured else required
