"""Setting up the ledger and stock coming in: registrations, storage, products, receipts."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.clinical import ledger as rules
from ketacare.errors import Refused
from ketacare.ledger.models import (
    Container,
    ContainerKind,
    EntryKind,
    LedgerEntry,
    Lot,
    Product,
    Receipt,
    Registration,
    StorageKind,
    StorageLocation,
)
from ketacare.ledger.services.base import append as append_entry
from ketacare.ledger.services.base import ask, clinic_day, core_refusals, now, qty, text

DEA_NUMBER_LENGTH = 9
MAX_CONTAINERS_PER_RECEIPT = 500


def _dea(value: str, field: str) -> str:
    """A DEA number: two letters and seven digits (the check digit is not verified here)."""
    cleaned = text(value, field, limit=9).upper()
    if len(cleaned) != DEA_NUMBER_LENGTH or not (cleaned[:2].isalpha() and cleaned[2:].isdigit()):
        raise Refused("A DEA number is two letters and seven digits.", field=field, code="invalid")
    return cleaned


@transaction.atomic
def registration_create(
    *, actor: Actor, name: str, address: str, dea_number: str, valid_from: date,
    valid_until: date | None = None,
) -> Registration:  # fmt: skip
    """Record the clinic's DEA registration for a registered location."""
    actor.require(Permission.LEDGER_MANAGE)
    if valid_until is not None and valid_until < valid_from:
        raise Refused("The end date is before the start.", field="valid_until", code="invalid")
    dea = _dea(dea_number, "dea_number")
    if Registration.objects.filter(clinic_id=actor.clinic_id, dea_number=dea).exists():
        raise Refused("That DEA number is already recorded.", field="dea_number", code="exists")
    return Registration.objects.create(
        clinic=actor.clinic,
        name=text(name, "name", limit=200),
        address=text(address, "address"),
        dea_number=dea,
        valid_from=valid_from,
        valid_until=valid_until,
    )


@transaction.atomic
def storage_create(*, actor: Actor, registration_id: int, name: str, kind: str) -> StorageLocation:
    """Add a safe or locked cabinet at a registered location."""
    actor.require(Permission.LEDGER_MANAGE)
    registration = _registration(actor, registration_id)
    if kind not in StorageKind.values:
        raise Refused("Choose a kind of storage.", field="kind", code="invalid")
    return StorageLocation.objects.create(
        clinic=actor.clinic,
        registration=registration,
        name=text(name, "name", limit=100),
        kind=kind,
    )


@transaction.atomic
def product_create(
    *, actor: Actor, ndc: str, name: str, substance: str, form: str, strength: str, unit: str,
    mg_per_unit: Decimal | None, concentration_mg_per_ml: Decimal | None, container_kind: str,
    container_size: Decimal,
) -> Product:  # fmt: skip
    """Add a controlled product by NDC, counted in one unit."""
    actor.require(Permission.LEDGER_MANAGE)
    with core_refusals("unit"):
        rules.quantity(container_size, unit, field="container_size")
    if unit != rules.Unit.MG and (mg_per_unit is None or mg_per_unit <= 0):
        raise Refused(f"Enter the mg in one {unit}.", field="mg_per_unit", code="required")
    if container_kind not in ContainerKind.values:
        raise Refused("Choose a kind of container.", field="container_kind", code="invalid")
    ndc = text(ndc, "ndc", limit=13)
    if Product.objects.filter(clinic_id=actor.clinic_id, ndc=ndc).exists():
        raise Refused("That NDC is already recorded.", field="ndc", code="exists")
    size = qty(container_size, unit, "container_size")
    return Product.objects.create(
        clinic=actor.clinic,
        ndc=ndc,
        name=text(name, "name", limit=200),
        substance=text(substance, "substance", limit=40).lower(),
        form=text(form, "form", limit=60),
        strength=text(strength, "strength", limit=60),
        unit=unit,
        mg_per_unit=mg_per_unit if unit != rules.Unit.MG else None,
        concentration_mg_per_ml=concentration_mg_per_ml,
        container_kind=container_kind,
        container_size=size.amount,
    )


def _registration(actor: Actor, registration_id: int) -> Registration:
    registration = Registration.objects.filter(
        pk=registration_id, clinic_id=actor.clinic_id
    ).first()
    if registration is None:
        raise Refused("No such registration.", field="registration_id", code="not_found")
    today = clinic_day(actor, now())
    if not rules.is_current(
        valid_from=registration.valid_from, valid_until=registration.valid_until, on=today
    ):
        raise Refused(
            "The DEA registration of this location is not current.",
            field="registration_id",
            code="registration_not_current",
        )
    return registration


def _storage(actor: Actor, storage_id: int, registration: Registration) -> StorageLocation:
    storage = StorageLocation.objects.filter(
        pk=storage_id, clinic_id=actor.clinic_id, registration=registration
    ).first()
    if storage is None:
        raise Refused("Choose storage at this location.", field="storage_id", code="not_found")
    return storage


def _product(actor: Actor, product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, clinic_id=actor.clinic_id).first()
    if product is None:
        raise Refused("No such product.", field="product_id", code="not_found")
    return product


def _lot(actor: Actor, product: Product, number: str, expires_on: date) -> Lot:
    number = text(number, "lot", limit=64)
    today = clinic_day(actor, now())
    with core_refusals("expires_on"):
        rules.lot_usable(expires_on=expires_on, on=today)
    lot, created = Lot.objects.get_or_create(
        product=product, number=number, defaults={"clinic": actor.clinic, "expires_on": expires_on}
    )
    if not created and lot.expires_on != expires_on:
        raise Refused(
            f"Lot {number} is recorded with expiry {lot.expires_on:%Y-%m-%d}.",
            field="expires_on",
            code="expiry_differs",
        )
    return lot


def _new_containers(
    actor: Actor, *, product: Product, lot: Lot, registration: Registration,
    storage: StorageLocation, count: int, label_prefix: str, label_field: str = "label_prefix",
) -> list[Container]:  # fmt: skip
    if not 1 <= count <= MAX_CONTAINERS_PER_RECEIPT:
        raise Refused(
            f"Between 1 and {MAX_CONTAINERS_PER_RECEIPT} containers.", field="containers",
            code="invalid",
        )  # fmt: skip
    prefix = text(label_prefix, label_field, limit=40)
    labels = [f"{prefix}-{n:03d}" for n in range(1, count + 1)]
    taken = set(
        Container.objects.filter(clinic_id=actor.clinic_id, label__in=labels).values_list(
            "label", flat=True
        )
    )
    if taken:
        raise Refused(
            f"Labels already in use: {', '.join(sorted(taken))}.", field=label_field,
            code="exists",
        )  # fmt: skip
    moment = now()
    return [
        Container.objects.create(
            clinic=actor.clinic,
            product=product,
            lot=lot,
            registration=registration,
            storage=storage,
            label=label,
            balance=Decimal(0),
            received_at=moment,
        )  # fmt: skip
        for label in labels
    ]


@transaction.atomic
def receipt_record(
    *, actor: Actor, registration_id: int, storage_id: int, product_id: int, lot: str,
    expires_on: date, containers: int, label_prefix: str, supplier_name: str,
    supplier_address: str, supplier_dea: str, invoice: str, received_on: date,
) -> Receipt:  # fmt: skip
    """Receive sealed containers from a supplier: one receipt entry per container (1304.22(c))."""
    actor.require(Permission.LEDGER_RECEIVE)
    registration = _registration(actor, registration_id)
    storage = _storage(actor, storage_id, registration)
    product = _product(actor, product_id)
    today = clinic_day(actor, now())
    if received_on > today or received_on < today - timedelta(days=7):
        raise Refused(
            "Record a receipt on its real date, within the last week.", field="received_on",
            code="invalid_date",
        )  # fmt: skip
    receipt = Receipt.objects.create(
        clinic=actor.clinic,
        registration=registration,
        supplier_name=text(supplier_name, "supplier_name", limit=200),
        supplier_address=text(supplier_address, "supplier_address"),
        supplier_dea=_dea(supplier_dea, "supplier_dea"),
        invoice=text(invoice, "invoice", limit=64),
        received_on=received_on,
        received_by=actor.user,
    )
    made = _new_containers(
        actor, product=product, lot=_lot(actor, product, lot, expires_on),
        registration=registration, storage=storage, count=containers, label_prefix=label_prefix,
    )  # fmt: skip
    for container in made:
        append_entry(
            actor, container, kind=EntryKind.RECEIPT, amount=product.container_size,
            change=product.container_size, receipt=receipt,
        )  # fmt: skip
    return receipt


@transaction.atomic
def opening_record(
    *, actor: Actor, registration_id: int, storage_id: int, product_id: int, lot: str,
    expires_on: date, label: str, quantity: Decimal, reason: str,
) -> LedgerEntry:  # fmt: skip
    """Bring stock already on the shelf into the ledger (with the initial inventory)."""
    actor.require(Permission.LEDGER_COUNT)
    registration = _registration(actor, registration_id)
    product = _product(actor, product_id)
    amount = qty(quantity, product.unit)
    if amount.amount > product.container_size:
        raise Refused(
            "More than one container holds.", field="quantity", code="more_than_container"
        )
    [container] = _new_containers(
        actor, product=product, lot=_lot(actor, product, lot, expires_on),
        registration=registration, storage=_storage(actor, storage_id, registration), count=1,
        label_prefix=label, label_field="label",
    )  # fmt: skip
    return append_entry(
        actor, container, kind=EntryKind.OPENING, amount=amount.amount, change=amount.amount,
        reason=text(reason, "reason"),
    )  # fmt: skip


def lot_expiry_check(*, actor: Actor, expires_on: date) -> None:
    """Refuse a lot past its expiry (for forms that check before saving)."""
    ask(lambda: rules.lot_usable(expires_on=expires_on, on=clinic_day(actor, now())))
