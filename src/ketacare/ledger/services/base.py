"""What every ledger write shares: refusals from the core, locks, second people, appending."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Membership, User
from ketacare.accounts.permissions import Permission, role_may
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import InvalidInput, ProtocolViolation
from ketacare.clinical import ledger as rules
from ketacare.errors import Refused
from ketacare.kernel import clinic_time, clock
from ketacare.ledger import chaining
from ketacare.ledger.models import (
    Container,
    ContainerStatus,
    Discrepancy,
    Draw,
    EntryKind,
    LedgerEntry,
    StockBalance,
)
from ketacare.ledger.services.witnesses import (
    WitnessNotConfirmed,
    witness_confirmed,
    witness_lock_check,
)
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_lock_for_write

T = TypeVar("T")


@contextmanager
def core_refusals(field: str = "quantity") -> Iterator[None]:
    """Turn the core's refusals into the shell's: a code and the field at fault."""
    try:
        yield
    except ProtocolViolation as violation:
        raise Refused(violation.reason, field=field, code=violation.code) from None
    except InvalidInput as invalid:
        raise Refused(invalid.message, field=invalid.field or field, code="invalid") from None


def ask(decide: Callable[[], T], field: str = "quantity") -> T:
    """Ask the core once and map its refusal."""
    with core_refusals(field):
        return decide()


def now() -> datetime:
    """The time the ledger records: the clinic clock (real time in production)."""
    return clock.now()


def text(value: str | None, field: str, *, required: bool = True, limit: int = 2000) -> str:
    """Trimmed text; required text missing or too long is refused naming the field."""
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise Refused("This field is required.", field=field, code="required")
    if len(cleaned) > limit:
        raise Refused(f"At most {limit} characters.", field=field, code="too_long")
    return cleaned


def qty(value: object, unit: str, field: str = "quantity") -> rules.Quantity:
    """A positive exact quantity in the product's unit."""
    return ask(lambda: rules.positive(rules.quantity(value, unit, field=field), field=field), field)


def lock_container(actor: Actor, container_id: int) -> Container:
    """The clinic's container, its row locked for the rest of the transaction (404 otherwise)."""
    container = (
        Container.objects.select_for_update()
        .filter(pk=container_id, clinic_id=actor.clinic_id)
        .first()
    )
    if container is None:
        raise Refused("No such container in this clinic.", field="container_id", code="not_found")
    return container


def lock_draw(actor: Actor, draw_id: int) -> tuple[Draw, Container]:
    """A draw and its container, locked container first (the one lock order of the ledger)."""
    draw = Draw.objects.filter(pk=draw_id, clinic_id=actor.clinic_id).first()
    if draw is None:
        raise Refused("No such draw in this clinic.", field="draw_id", code="not_found")
    container = lock_container(actor, draw.container_id)
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    return draw, container


def clinic_day(actor: Actor, moment: datetime) -> date:
    """The clinic-local calendar day of a moment."""
    return clinic_time.local_date(moment, clinic_time.clinic_zone(actor.clinic))


def usable(actor: Actor, container: Container, on: datetime) -> None:
    """Refuse stock from a blocked, emptied-out or expired container."""
    if container.blocked:
        raise Refused(
            "An open discrepancy blocks this container until someone resolves it.",
            field="container_id",
            code="container_blocked",
        )
    if container.status == ContainerStatus.GONE:
        raise Refused("The container is no longer in stock.", field="container_id", code="gone")
    zone_day = clinic_day(actor, on)
    with core_refusals("container_id"):
        rules.lot_usable(expires_on=container.lot.expires_on, on=zone_day)


def patient_of_clinic(actor: Actor, patient_id: int) -> Patient:
    """The clinic's patient (refused when another clinic's)."""
    if not Patient.objects.filter(pk=patient_id, clinic_id=actor.clinic_id).exists():
        raise Refused("No such patient in this clinic.", field="patient_id", code="not_found")
    return patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient_id)


def second_person(
    actor: Actor, *, username: str, password: str, permission: Permission, field: str
) -> User:
    """A second member of the clinic who confirms with their own password and may do this."""
    username = text(username, field, limit=150)
    user = User.objects.filter(username=username, is_active=True).first()
    membership = (
        Membership.objects.filter(user=user, clinic_id=actor.clinic_id, is_active=True).first()
        if user is not None
        else None
    )
    # One answer for an unknown name and a wrong password, so names cannot be probed; a wrong
    # password for a member is counted by the page after this step rolls back.
    unmatched = "That name and password do not match a member of this clinic."
    if user is None or membership is None:
        # Hash the password anyway, so an unknown name takes as long to refuse as a wrong
        # password (as Django's sign-in does) and the timing does not tell names apart.
        User().set_password(password or "")
        raise WitnessNotConfirmed(unmatched, field=field, actor=actor, witness_id=None)
    witness_lock_check(clinic_id=actor.clinic_id, user_id=user.pk, field=field)
    if not user.check_password(password or ""):
        raise WitnessNotConfirmed(unmatched, field=field, actor=actor, witness_id=user.pk)
    witness_confirmed(clinic_id=actor.clinic_id, user_id=user.pk)
    if not role_may(membership.role, permission):
        raise Refused(
            f"{user.display_name()}'s role may not do '{permission.value}'.",
            field=field,
            code="second_person_not_permitted",
        )
    return user


def _stock(container: Container) -> StockBalance:
    StockBalance.objects.get_or_create(
        clinic_id=container.clinic_id,
        registration_id=container.registration_id,
        product_id=container.product_id,
    )
    return StockBalance.objects.select_for_update().get(
        registration_id=container.registration_id, product_id=container.product_id
    )


def append(
    actor: Actor,
    container: Container,
    *,
    kind: EntryKind,
    amount: Decimal,
    change: Decimal,
    occurred_at: datetime | None = None,
    **fields: Any,
) -> LedgerEntry:
    """Apply a change to a locked container and its stock line, and append the entry to the chain.

    The core decides the new balances (never below zero); the database constraints hold the
    same line should anything bypass this.
    """
    unit = container.product.unit
    stock = _stock(container)
    delta = rules.Quantity(change, rules.Unit(unit))
    container_after = ask(
        lambda: rules.after_movement(rules.Quantity(container.balance, rules.Unit(unit)), delta)
    )
    stock_after = ask(
        lambda: rules.after_movement(rules.Quantity(stock.balance, rules.Unit(unit)), delta)
    )
    container.balance = container_after.amount
    if kind == EntryKind.DRAW and container.status == ContainerStatus.SEALED:
        container.status = ContainerStatus.OPEN
    if container.balance == 0 and container.status != ContainerStatus.GONE:
        container.status = ContainerStatus.EMPTY
    elif container.balance > 0 and container.status == ContainerStatus.EMPTY:
        container.status = ContainerStatus.OPEN
    container.save(update_fields=["balance", "status"])
    stock.balance = stock_after.amount
    stock.save(update_fields=["balance"])
    moment = now()
    entry = chaining.link(
        {
            "clinic_id": container.clinic_id,
            "kind": kind,
            "at": moment,
            "occurred_at": occurred_at or moment,
            "registration_id": container.registration_id,
            "product_id": container.product_id,
            "lot_id": container.lot_id,
            "container": container,
            "unit": unit,
            "amount": amount,
            "change": change,
            "container_balance": container.balance,
            "stock_balance": stock.balance,
            "actor": actor.user,
            **fields,
        }
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="ledger_entry",
        object_id=entry.pk,
        patient_id=entry.patient_id,
        detail={"kind": str(kind), "container": container.label, "amount": str(amount)},
    )
    return entry


def open_discrepancy(
    actor: Actor,
    container: Container,
    *,
    kind: str,
    description: str,
    expected: Decimal | None = None,
    found: Decimal | None = None,
) -> Discrepancy:
    """Open a discrepancy on a locked container and block it until resolved."""
    discrepancy = Discrepancy.objects.create(
        clinic_id=container.clinic_id,
        container=container,
        kind=kind,
        description=description,
        expected=expected,
        found=found,
        opened_at=now(),
        opened_by=actor.user,
    )
    if not container.blocked:
        container.blocked = True
        container.save(update_fields=["blocked"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="ledger_discrepancy",
        object_id=discrepancy.pk,
        detail={"kind": kind, "container": container.label},
    )
    return discrepancy
