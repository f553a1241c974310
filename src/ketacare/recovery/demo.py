"""Demo recovery records, in the first demo clinic only: the at-home patient (demo patient 4)
on the safety-review worklist with the evidence (a lost troche and a craving rating that rose),
with a relapse-prevention plan; and demo patient 7 in a substance-use programme with five weeks
of use-calendar days. Running it twice leaves one copy (each part is skipped once it exists)."""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.athome.models import HomeProgramme
from ketacare.athome.services import supply_loss_report
from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.outcomes.models import ResponseSource, ScaleResponse
from ketacare.outcomes.services import scale_response_record
from ketacare.patients.models import Patient
from ketacare.recovery import services
from ketacare.recovery.models import MisuseReview, RecoveryPlanVersion, SudProgramme
from ketacare.recovery.services.common import today_of

logger = logging.getLogger(__name__)

DEMO_CLINIC = "north"  # the first demo clinic (ketacare.demo.DEMO_CLINICS)
AT_HOME_POSITION = 4  # the at-home demo patient (ketacare.athome.demo)
PROGRAMME_POSITION = 7
PROGRAMME_DAYS = 35
# Days (counted from the programme's start) the patient used, and how much: a lapse in the
# second week, then abstinence (a few days left unmarked, as real calendars have).
USED_ON = {9: "0.5 g", 10: "0.25 g"}
UNMARKED = {20, 27}
CRAVING = ((24, 3), (3, 7))  # (days ago, rating 0-10): a rise of 4 (the signal needs 2)
PLAN = {
    "triggers": "Payday evenings; seeing the old crowd; nights I cannot sleep",
    "warning_signs": "Skipping meals, not answering Jordan, counting the troches",
    "coping": "Walk the dog, call Jordan, urge surfing for twenty minutes",
    "people": "Jordan (partner); Tuesday SMART Recovery group",
    "crisis_contacts": "988 Suicide & Crisis Lifeline; the clinic's on-call line",
    "habits": "Bed by 11, a walk every morning, three meals",
    "reasons": "Being present for my kids; keeping my job",
}


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Add the recovery demo records to the first demo clinic."""
    nurse, therapist = staff.get(Role.NURSE), staff.get(Role.THERAPIST)
    if clinic.slug != DEMO_CLINIC or nurse is None or therapist is None:
        return
    patients = list(clinic.patients.order_by("mrn")[:PROGRAMME_POSITION])
    if len(patients) < PROGRAMME_POSITION:
        return
    as_nurse = Actor(user=nurse, clinic=clinic, role=Role.NURSE, channel="demo")
    as_therapist = Actor(user=therapist, clinic=clinic, role=Role.THERAPIST, channel="demo")
    try:
        _worklist_patient(clinic, patients[AT_HOME_POSITION - 1], as_nurse, as_therapist)
        _programme_patient(patients[PROGRAMME_POSITION - 1], as_nurse)
    except KetaCareError as refusal:
        logger.info("demo: recovery records incomplete: %s", refusal)


def _worklist_patient(
    clinic: Clinic, patient: Patient, as_nurse: Actor, as_therapist: Actor
) -> None:
    if not MisuseReview.objects.filter(patient=patient).exists():
        home = HomeProgramme.objects.filter(patient=patient).first()
        if home is not None:
            supply_loss_report(
                actor=as_nurse, programme_id=home.pk, units=1,
                note="Says a troche fell down the sink", idempotency_key=f"demo-{clinic.slug}-lost",
            )  # fmt: skip
        if not ScaleResponse.objects.filter(patient=patient, instrument_id="craving_nrs").exists():
            for days_ago, rating in CRAVING:
                scale_response_record(
                    actor=as_nurse, patient=patient, instrument_id="craving_nrs",
                    answers=[rating], source=ResponseSource.STAFF,
                    recorded_at=clock.now() - timedelta(days=days_ago),
                    idempotency_key=f"demo-craving-{days_ago}",
                )  # fmt: skip
        services.misuse_review_refresh(actor=as_nurse, patient=patient, today=today_of(as_nurse))
    if not RecoveryPlanVersion.objects.filter(patient=patient).exists():
        services.plan_version_write(
            actor=as_therapist, patient_id=patient.pk, fields=PLAN, based_on=0
        )


def _programme_patient(patient: Patient, as_nurse: Actor) -> None:
    if SudProgramme.objects.filter(patient=patient).exists():
        return
    today = today_of(as_nurse)
    start = today - timedelta(days=PROGRAMME_DAYS - 1)
    services.programme_start(
        actor=as_nurse, patient_id=patient.pk, substance="ketamine", started_on=start
    )
    for n in range(PROGRAMME_DAYS):
        if n in UNMARKED:
            continue
        day: date = start + timedelta(days=n)
        amount = USED_ON.get(n, "")
        services.use_day_mark(
            actor=as_nurse, patient_id=patient.pk, day=day, used=bool(amount), amount=amount
        )
