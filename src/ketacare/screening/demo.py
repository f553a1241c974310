"""Demo screenings: patient 4 eligible and signed, 5 needs review (unsigned), 6-13 and 15 signed
so their courses may start (12 for esketamine), 14 ineligible and unsigned.

A patient whose chart draws a caution (say, aged 65 or over) is signed with a documented reason,
as a prescriber would. Running it twice leaves one copy.
"""

import dataclasses
import random
from datetime import timedelta

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.kernel import clock
from ketacare.patients.demo import DAYS_AGO, DEFAULT_DAYS_AGO
from ketacare.patients.models import IntakeStatus
from ketacare.screening.models import Screening, ScreeningStatus
from ketacare.screening.services import screening_run, screening_sign

PROTOCOL_BY_POSITION = dict.fromkeys((4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15), "iv_induction_6x")
PROTOCOL_BY_POSITION[12] = "esketamine_trd"
UNSIGNED = {5, 14}
REVIEW_REASON = (
    "Reviewed the cautions with the patient: benefits judged to outweigh the risks; "
    "monitoring as per protocol."
)


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Screen the demo patients whose stage has a screening."""
    nurse, prescriber = staff.get(Role.NURSE), staff.get(Role.PRESCRIBER)
    if nurse is None or prescriber is None:
        return
    as_nurse = Actor(user=nurse, clinic=clinic, role=Role.NURSE, channel="demo")
    # The demo loader signs as the demo prescriber: the trusted author of fictional records.
    as_prescriber = Actor(
        user=prescriber,
        clinic=clinic,
        role=Role.PRESCRIBER,
        channel="demo",
        reauthenticated_at=clock.wall_now(),
    )
    for position, patient in enumerate(clinic.patients.order_by("mrn")[:15], start=1):
        protocol_id = PROTOCOL_BY_POSITION.get(position)
        if protocol_id is None or patient.intake_status != IntakeStatus.COMPLETE:
            continue
        if Screening.objects.filter(clinic=clinic, patient=patient).exists():
            continue
        run_at = clock.now() - timedelta(days=DAYS_AGO.get(position, DEFAULT_DAYS_AGO) - 1, hours=2)
        screening = screening_run(
            actor=as_nurse, patient=patient, protocol_id=protocol_id, at=run_at
        )
        if position in UNSIGNED:
            continue
        if screening.status == ScreeningStatus.INELIGIBLE:
            continue  # never sign an exclusion in demo data; it needs two prescribers
        reason = "" if screening.status == ScreeningStatus.ELIGIBLE else REVIEW_REASON
        screening_sign(
            # stamped at each signing: loading outlasts a re-authentication on a slow machine
            actor=dataclasses.replace(as_prescriber, reauthenticated_at=clock.wall_now()),
            screening=screening,
            reason=reason,
            at=run_at + timedelta(minutes=rng.randint(20, 90)),
        )
