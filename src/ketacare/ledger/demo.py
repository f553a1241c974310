"""Demo stock: each clinic's registration, safe, ketamine vials and SPRAVATO devices."""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.kernel import clinic_time
from ketacare.ledger import selectors, services
from ketacare.ledger.models import Registration

# Invented DEA numbers of the right shape (two letters, seven digits), and real product NDCs.
DEA_NUMBERS = {0: "FN1234563", 1: "FS7654321"}
VIALS = 10
DEVICES = 24


def _actor(clinic: Clinic, user: User, role: Role) -> Actor:
    return Actor(user=user, clinic=clinic, role=role, client_address="127.0.0.1", channel="demo")


def load(*, clinic: Clinic, staff: dict[Role, User], rng: random.Random) -> None:
    """The clinic's ledger set up with a delivery of vials and devices, once."""
    if Registration.objects.filter(clinic=clinic).exists():
        return
    admin = _actor(clinic, staff[Role.ADMIN], Role.ADMIN)
    nurse = _actor(clinic, staff[Role.NURSE], Role.NURSE)
    today = clinic_time.clinic_today(clinic)
    registration = services.registration_create(
        actor=admin, name=f"{clinic.name}", address=f"1 Demo Street, {clinic.name}",
        dea_number=DEA_NUMBERS[Clinic.objects.filter(pk__lt=clinic.pk).count() % 2],
        valid_from=today - timedelta(days=700),
    )  # fmt: skip
    safe = services.storage_create(
        actor=admin, registration_id=registration.pk, name="Safe 1", kind="safe"
    )
    vial = services.product_create(
        actor=admin, ndc="42023-0114-10", name="Ketamine HCl injection", substance="ketamine",
        form="injection solution", strength="50 mg/mL (10 mL vial)", unit="mg", mg_per_unit=None,
        concentration_mg_per_ml=Decimal("50"), container_kind="vial",
        container_size=Decimal("500"),
    )  # fmt: skip
    device = services.product_create(
        actor=admin, ndc="50458-028-02", name="SPRAVATO nasal spray", substance="esketamine",
        form="nasal spray", strength="28 mg/device", unit="device", mg_per_unit=Decimal("28"),
        concentration_mg_per_ml=None, container_kind="device", container_size=Decimal("1"),
    )  # fmt: skip
    for product, count, prefix, lot in (
        (vial, VIALS, "KV", f"KH-{rng.randint(1000, 9999)}"),
        (device, DEVICES, "SD", f"SPR-{rng.randint(1000, 9999)}"),
    ):
        services.receipt_record(
            actor=nurse, registration_id=registration.pk, storage_id=safe.pk,
            product_id=product.pk, lot=lot, expires_on=today + timedelta(days=540),
            containers=count, label_prefix=prefix, supplier_name="Demo Pharma Wholesale",
            supplier_address="200 Distribution Way, Columbus OH", supplier_dea="RD4567893",
            invoice=f"DEMO-{prefix}-{rng.randint(10000, 99999)}", received_on=today,
        )  # fmt: skip


def draw_for_dose(actor: Actor, session_id: int, order: Any, at: datetime) -> str:
    """Draw a session's verified dose from demo stock (a vial, or a device each); the lot."""
    substance = "esketamine" if order.devices else "ketamine"
    containers = [
        c for c in selectors.drawable_containers(actor=actor) if c.product.substance == substance
    ]
    if order.devices:
        chosen = containers[: order.devices]
        amounts = [Decimal(1)] * len(chosen)
    else:
        chosen = [next(c for c in containers if c.balance >= order.dose_mg)]
        amounts = [order.dose_mg]
    for container, amount in zip(chosen, amounts, strict=True):
        services.draw_create(
            actor=actor, container_id=container.pk, session_id=session_id, quantity=amount,
            occurred_at=at,
        )  # fmt: skip
    return chosen[0].lot.number
