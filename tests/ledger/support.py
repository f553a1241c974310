"""What other apps' tests need from the ledger and the REMS: stock to draw from, a draw for a
session's verified dose, a certified setting and an enrolled patient."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ketacare.accounts.models import Membership
from ketacare.accounts.roles import Role
from ketacare.ledger import services
from ketacare.ledger.models import Container, Draw, Product, Registration, StorageLocation
from ketacare.rems.models import PatientEnrolment, SettingCertification
from tests.factories import member
from tests.ledger.factories import Stock, as_actor, stock_for


def _someone(clinic: Any, role: Role) -> Any:
    found = Membership.objects.filter(clinic=clinic, role=role, is_active=True).first()
    return found.user if found else member(clinic, role)


def stock_of(clinic: Any) -> Stock:
    """The clinic's ledger, set up once."""
    staff = {role.value: _someone(clinic, role) for role in (Role.ADMIN, Role.NURSE)}
    registration = Registration.objects.filter(clinic=clinic).first()
    if registration is None:
        return stock_for(clinic, staff)
    products = Product.objects.filter(clinic=clinic)
    return Stock(
        clinic, staff, registration, StorageLocation.objects.filter(clinic=clinic).first(),
        products.get(unit="mg"), products.get(unit="device"),
    )  # fmt: skip


def draw_for(session: Any, by: Any, lot: str = "LOT-1234") -> list[Draw]:
    """Draw the session's verified dose from fresh stock of `lot` (one device per device)."""
    stock = stock_of(session.clinic)
    order = session.dose_orders.get(status="verified")
    prefix = f"S{session.pk}-{Container.objects.filter(clinic=session.clinic).count()}"
    if order.devices:
        containers = stock.receive(stock.device, count=order.devices, prefix=prefix, lot=lot)
        amounts = [Decimal(1)] * len(containers)
    else:
        containers = stock.receive(stock.vial, prefix=prefix, lot=lot)
        amounts = [order.dose_mg]
    return [
        services.draw_create(actor=by, container_id=c.pk, session_id=session.pk, quantity=amount)
        for c, amount in zip(containers, amounts, strict=True)
    ]


def rems_ready(clinic: Any, patient: Any) -> None:
    """A certified setting and the patient enrolled (for esketamine sessions)."""
    admin = _someone(clinic, Role.ADMIN)
    prescriber = _someone(clinic, Role.PRESCRIBER)
    today = timezone.localdate()
    if not SettingCertification.objects.filter(clinic=clinic).exists():
        SettingCertification.objects.create(
            clinic=clinic, certification_id="REMS-HCS-0001", location=f"{clinic.name}",
            authorised_representative="A. Representative", certified_on=today - timedelta(days=30),
            status="certified", recorded_by=admin, recorded_at=timezone.now(),
        )  # fmt: skip
    if not PatientEnrolment.objects.filter(patient=patient).exists():
        PatientEnrolment.objects.create(
            clinic=clinic, patient=patient, rems_patient_id=f"RP-{patient.pk:06d}",
            enrolled_on=today - timedelta(days=1), signed_by_patient=True, prescriber=prescriber,
            recorded_by=admin, recorded_at=timezone.now(),
        )  # fmt: skip


def nurse_actor(clinic: Any) -> Any:
    """A nurse of the clinic as an actor."""
    return as_actor(_someone(clinic, Role.NURSE), clinic, "nurse")
