"""Demo REMS records: each clinic's certified setting and its esketamine patients enrolled."""

import random
from datetime import timedelta

from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.kernel import clock
from ketacare.rems.models import PatientEnrolment, SettingCertification

# Demo patients on an esketamine course (the stage plan's patient 12).
ESKETAMINE_POSITIONS = (12,)


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Certify the setting and enrol the esketamine patients, once."""
    today = clock.today()
    if not SettingCertification.objects.filter(clinic=clinic).exists():
        SettingCertification.objects.create(
            clinic=clinic,
            certification_id=f"HCS-{rng.randint(100000, 999999)}",
            location=f"{clinic.name}, 1 Demo Street",
            authorised_representative=staff[Role.ADMIN].get_full_name() or "Clinic admin",
            certified_on=today - timedelta(days=400),
            status="certified",
            recorded_by=staff[Role.ADMIN],
            recorded_at=clock.now(),
        )
    patients = list(clinic.patients.order_by("mrn"))
    for position in ESKETAMINE_POSITIONS:
        if position > len(patients):
            continue
        patient = patients[position - 1]
        PatientEnrolment.objects.get_or_create(
            patient=patient,
            defaults={
                "clinic": clinic,
                "rems_patient_id": f"RP-{rng.randint(1000000, 9999999)}",
                "enrolled_on": today - timedelta(days=90),
                "signed_by_patient": True,
                "prescriber": staff[Role.PRESCRIBER],
                "recorded_by": staff[Role.PRESCRIBER],
                "recorded_at": clock.now(),
            },
        )
