"""Stock for tests: a registered location, a safe, products, and containers received through the
real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.ledger import services
from ketacare.ledger.models import Container, Product, Registration, StorageLocation
from tests.factories import TEST_PASSWORD

VIAL = {
    "ndc": "42023-0114-10",
    "name": "Ketamine HCl injection",
    "substance": "ketamine",
    "form": "injection solution",
    "strength": "50 mg/mL",
    "unit": "mg",
    "mg_per_unit": None,
    "concentration_mg_per_ml": Decimal("50"),
    "container_kind": "vial",
    "container_size": Decimal("500"),
}
DEVICE = {
    "ndc": "50458-028-02",
    "name": "SPRAVATO nasal spray",
    "substance": "esketamine",
    "form": "nasal spray",
    "strength": "28 mg/device",
    "unit": "device",
    "mg_per_unit": Decimal("28"),
    "concentration_mg_per_ml": None,
    "container_kind": "device",
    "container_size": Decimal("1"),
}


def as_actor(user: Any, clinic: Any, role: str) -> Actor:
    """The actor a user is in a clinic with a role."""
    return Actor(user=user, clinic=clinic, role=Role(role), client_address="127.0.0.1")


@dataclass
class Stock:
    """A clinic's ledger set up: registration, safe, vial and device products, and its staff."""

    clinic: Any
    staff: dict[str, Any]
    registration: Registration
    safe: StorageLocation
    vial: Product
    device: Product

    def actor(self, role: str) -> Actor:
        """The clinic's user of that role as an actor."""
        return as_actor(self.staff[role], self.clinic, role)

    def receive(
        self, product: Product | None = None, count: int = 1, prefix: str = "V", lot: str = "L1",
        expires_on: date | None = None,
    ) -> list[Container]:  # fmt: skip
        """Receive `count` sealed containers; returns them."""
        product = product or self.vial
        today = timezone.localdate()
        receipt = services.receipt_record(
            actor=self.actor("nurse"), registration_id=self.registration.pk,
            storage_id=self.safe.pk, product_id=product.pk, lot=lot,
            expires_on=expires_on or today + timedelta(days=365), containers=count,
            label_prefix=prefix, supplier_name="Acme Wholesale",
            supplier_address="1 Supply Way, Newark NJ", supplier_dea="RA1234563",
            invoice=f"INV-{prefix}", received_on=today,
        )  # fmt: skip
        return list(Container.objects.filter(entries__receipt=receipt).order_by("label"))


def stock_for(clinic: Any, staff: dict[str, Any]) -> Stock:
    """Set up the ledger of a clinic through the services."""
    admin = as_actor(staff["admin"], clinic, "admin")
    registration = services.registration_create(
        actor=admin, name=f"{clinic.name} main site", address="10 Main St, Springfield",
        dea_number="FK1234563", valid_from=timezone.localdate() - timedelta(days=400),
    )  # fmt: skip
    safe = services.storage_create(
        actor=admin, registration_id=registration.pk, name="Safe 1", kind="safe"
    )
    vial = services.product_create(actor=admin, **VIAL)
    device = services.product_create(actor=admin, **DEVICE)
    return Stock(clinic, staff, registration, safe, vial, device)


PASSWORD = TEST_PASSWORD
