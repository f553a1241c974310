"""Fictional demo data: two clinics, one user per role in each, about 30 patients.

Every name here is invented. The demo password exists only in demo data.
"""

import random
from dataclasses import dataclass
from datetime import date
from importlib import import_module

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, Membership, User
from ketacare.accounts.roles import Role
from ketacare.patients.models import Patient, PatientSexChoices
from ketacare.patients.services import patient_create

DEMO_PASSWORD = "ketacare-demo"  # noqa: S105 - demo-only, printed by `make demo`

DEMO_CLINICS = (("north", "Northside Ketamine Clinic"), ("south", "Southbank Wellness Clinic"))
DEMO_CLINIC_PHONES = {"north": "(555) 010-0100", "south": "(555) 010-0200"}
DEMO_ROLES = (
    (Role.ADMIN, "Alex", "Admin"),
    (Role.PRESCRIBER, "Priya", "Prescott"),
    (Role.NURSE, "Nora", "Nguyen"),
    (Role.THERAPIST, "Theo", "Thompson"),
    (Role.FRONT_DESK, "Frankie", "Desmond"),
)
# The second clinic's staff have their own names: two nurses both called Nora Nguyen confuse
# anyone checking who signed what.
DEMO_STAFF_NAMES = {
    "north": {role: (first, last) for role, first, last in DEMO_ROLES},
    "south": {
        Role.ADMIN: ("Bea", "Bauer"),
        Role.PRESCRIBER: ("Ravi", "Raman"),
        Role.NURSE: ("Sofia", "Santos"),
        Role.THERAPIST: ("Tomas", "Ortega"),
        Role.FRONT_DESK: ("Dana", "Frost"),
    },
}
GIVEN = [
    "Maya",
    "Jordan",
    "Sam",
    "Lena",
    "Omar",
    "Grace",
    "Ivan",
    "Rosa",
    "Kai",
    "Nadia",
    "Eli",
    "Hana",
    "Marco",
    "Tess",
    "Yusuf",
    "Clara",
    "Dev",
    "Ines",
    "Felix",
    "June",
]
FAMILY = [
    "Rivera",
    "Okafor",
    "Lindqvist",
    "Haddad",
    "Moreau",
    "Tanaka",
    "Kowalski",
    "Brennan",
    "Abara",
    "Silva",
    "Novak",
    "Castillo",
    "Fischer",
    "Osei",
    "Park",
    "Quinn",
]
PATIENTS_PER_CLINIC = 15


@dataclass(frozen=True)
class DemoLogin:
    """A demo login to print for the person running `make demo`."""

    username: str
    clinic: str
    role: str


def demo_username(clinic_slug: str, role: Role) -> str:
    return f"{clinic_slug}.{role.value.replace('_', '')}"


def _ensure_staff(clinic: Clinic) -> dict[Role, User]:
    staff: dict[Role, User] = {}
    for role, default_first, default_last in DEMO_ROLES:
        first, last = DEMO_STAFF_NAMES.get(clinic.slug, {}).get(role, (default_first, default_last))
        user, created = User.objects.get_or_create(
            username=demo_username(clinic.slug, role),
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{role.value}@{clinic.slug}.example",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Membership.objects.get_or_create(user=user, clinic=clinic, defaults={"role": role})
        staff[role] = user
    return staff


def demo_patient_name(clinic_index: int, n: int) -> tuple[str, str]:
    """A full name no other demo patient has (in either clinic): pairs walk both lists at once."""
    k = clinic_index * PATIENTS_PER_CLINIC + n - 1
    return GIVEN[k % len(GIVEN)], FAMILY[k % len(FAMILY)]  # distinct for k < lcm(20, 16) = 80


def _ensure_patients(clinic: Clinic, admin: User, rng: random.Random) -> None:
    actor = Actor(
        user=admin, clinic=clinic, role=Role.ADMIN, client_address="127.0.0.1", channel="demo"
    )
    slugs = [slug for slug, _ in DEMO_CLINICS]
    clinic_index = slugs.index(clinic.slug) if clinic.slug in slugs else 0
    for n in range(1, PATIENTS_PER_CLINIC + 1):
        mrn = f"{clinic.slug[:1].upper()}{n:05d}"
        sex = rng.choice([PatientSexChoices.FEMALE, PatientSexChoices.MALE])
        # Names and phones are distinct by construction; the draws that once chose them are
        # still made so every later random choice of the demo stays as it was.
        rng.choice(GIVEN), rng.choice(FAMILY)
        given, family = demo_patient_name(clinic_index, n)
        birth = date(rng.randint(1958, 2004), rng.randint(1, 12), rng.randint(1, 28))
        if Patient.objects.filter(clinic=clinic, mrn=mrn).exists():
            continue
        rng.randint(10, 99)
        patient_create(
            actor=actor,
            mrn=mrn,
            given_name=given,
            family_name=family,
            date_of_birth=birth,
            sex=sex,
            email=f"{given.lower()}.{family.lower()}{n}@patients.example",
            phone=f"555-01{10 + clinic_index * PATIENTS_PER_CLINIC + n}",
        )


# Apps that add demo data, in dependency order. Each has `ketacare.<app>.demo.load(clinic=,
# staff=, rng=)`, which must be idempotent: running `init-demo` twice leaves one copy.
DEMO_APPS = (
    "patients", "consent", "screening", "scheduling", "ledger", "rems", "treatment", "followup",
    "athome", "recovery",
)  # fmt: skip


def _load_app_demo_data(clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    for app in DEMO_APPS:
        try:
            module = import_module(f"ketacare.{app}.demo")
        except ModuleNotFoundError:
            continue
        module.load(clinic=clinic, staff=staff, rng=rng)


@transaction.atomic
def load_demo_data() -> list[DemoLogin]:
    """Create (or complete) the demo clinics, staff and patients; safe to run again."""
    logins: list[DemoLogin] = []
    for index, (slug, name) in enumerate(DEMO_CLINICS):
        clinic, _ = Clinic.objects.get_or_create(
            slug=slug,
            # fictional numbers (555-01xx is reserved for fiction)
            defaults={"name": name, "phone": DEMO_CLINIC_PHONES.get(slug, "")},
        )
        staff = _ensure_staff(clinic)
        # A fixed seed per clinic: the same names every time, so the demo is reproducible.
        _ensure_patients(clinic, staff[Role.ADMIN], random.Random(2026 + index))  # noqa: S311
        _load_app_demo_data(clinic, staff, random.Random(4052 + index))  # noqa: S311
        logins += [DemoLogin(u.username, slug, r.value) for r, u in staff.items()]
    return logins
