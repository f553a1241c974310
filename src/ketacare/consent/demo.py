"""Demo consent: each clinic's document for every route, and signatures for patients 6-13, 15.

Patients 6-11, 13 and 15 consent to IV ketamine, patient 12 to esketamine, each the day after
their intake. Running it twice leaves one copy.
"""

import random
from datetime import timedelta

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.consent.models import ConsentDocument, ConsentRoute, ConsentSignature
from ketacare.consent.selectors import latest_versions
from ketacare.consent.services import consent_document_publish, consent_signature_record
from ketacare.consent.texts import TITLES, default_body
from ketacare.kernel import clock
from ketacare.patients.demo import DAYS_AGO, DEFAULT_DAYS_AGO

ROUTE_BY_POSITION = dict.fromkeys((6, 7, 8, 9, 10, 11, 13, 15), "iv")
ROUTE_BY_POSITION[12] = "esketamine"
PUBLISHED_DAYS_AGO = 365


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """Publish the clinic's consent documents and record the demo patients' signatures."""
    admin, nurse = staff.get(Role.ADMIN), staff.get(Role.NURSE)
    if admin is None or nurse is None:
        return
    as_admin = Actor(user=admin, clinic=clinic, role=Role.ADMIN, channel="demo")
    published = clock.now() - timedelta(days=PUBLISHED_DAYS_AGO)
    for route in ConsentRoute.values:
        if not ConsentDocument.objects.filter(clinic=clinic, route=route).exists():
            consent_document_publish(
                actor=as_admin,
                route=route,
                title=TITLES[route],
                body=default_body(route),
                based_on=0,
                change_note="First version.",
                at=published,
            )
    latest = latest_versions(clinic_id=clinic.pk)
    recorder = staff.get(Role.FRONT_DESK, nurse)
    as_recorder = Actor(user=recorder, clinic=clinic, role=Role.FRONT_DESK, channel="demo")
    for position, patient in enumerate(clinic.patients.order_by("mrn")[:15], start=1):
        signed_route = ROUTE_BY_POSITION.get(position)
        if signed_route is None:
            continue
        already = ConsentSignature.objects.filter(
            clinic=clinic, patient=patient, document_version__document__route=signed_route
        ).exists()
        if already:
            continue
        signed_at = clock.now() - timedelta(
            days=DAYS_AGO.get(position, DEFAULT_DAYS_AGO) - 1, minutes=rng.randint(0, 240)
        )
        consent_signature_record(
            actor=as_recorder,
            patient=patient,
            document_version_id=latest[signed_route].pk,
            signed_name=patient.display_name,
            signed_at=signed_at,
            witnessed_by_id=nurse.pk,
            idempotency_key=f"demo-{clinic.slug}-{patient.mrn}-{signed_route}",
            at=signed_at,
        )
