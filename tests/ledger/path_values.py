"""Records of a clinic for the route walker: a container, a draw, a discrepancy, a loss report."""

from decimal import Decimal

from django.utils import timezone

from ketacare.ledger import services
from ketacare.ledger.models import Container, LedgerEntry, Product, Registration, StorageLocation
from tests.ledger.factories import Stock, as_actor, stock_for
from tests.treatment.factories import session_row


def _stock(clinic, staff) -> Stock:
    registration = Registration.objects.filter(clinic=clinic).first()
    if registration is None:
        return stock_for(clinic, staff)
    products = Product.objects.filter(clinic=clinic)
    return Stock(
        clinic, staff, registration, StorageLocation.objects.filter(clinic=clinic).first(),
        products.get(unit="mg"), products.get(unit="device"),
    )  # fmt: skip


def _container(clinic, patient, staff) -> Container:
    stock = _stock(clinic, staff)
    prefix = f"W{Container.objects.filter(clinic=clinic).count()}"
    return stock.receive(prefix=prefix)[0]


def _draw(clinic, patient, staff):
    session = session_row(clinic, patient, staff)
    return services.draw_create(
        actor=as_actor(staff["nurse"], clinic, "nurse"),
        container_id=_container(clinic, patient, staff).pk,
        session_id=session.pk, quantity=Decimal("50"),
    ).pk  # fmt: skip


def _discrepancy(clinic, patient, staff):
    return services.discrepancy_open(
        actor=as_actor(staff["nurse"], clinic, "nurse"),
        container_id=_container(clinic, patient, staff).pk, description="walk",
    ).pk  # fmt: skip


def _loss(clinic, patient, staff):
    return services.theft_loss_record(
        actor=as_actor(staff["prescriber"], clinic, "prescriber"),
        container_id=_container(clinic, patient, staff).pk, quantity="1", kind="loss",
        discovered_on=timezone.localdate(), circumstances="walk",
    ).pk  # fmt: skip


FACTORIES = {
    "container_id": lambda clinic, patient, staff: _container(clinic, patient, staff).pk,
    "draw_id": _draw,
    "discrepancy_id": _discrepancy,
    "theft_loss_id": _loss,
    "entry_id": lambda clinic, patient, staff: (
        LedgerEntry.objects.get(container=_container(clinic, patient, staff)).pk
    ),
}
