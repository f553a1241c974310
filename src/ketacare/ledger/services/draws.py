"""Draws for a dose and where each went: administered, wasted before a witness, returned."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.clinical import ledger as rules
from ketacare.errors import Refused
from ketacare.ledger.models import DiscrepancyKind, Draw, EntryKind, LedgerEntry
from ketacare.ledger.services.base import (
    append,
    ask,
    lock_container,
    lock_draw,
    now,
    open_discrepancy,
    patient_of_clinic,
    qty,
    second_person,
    text,
    usable,
)
from ketacare.ledger.sessions import session_source


def _state(draw: Draw) -> rules.DrawState:
    unit = rules.Unit(draw.unit)
    return rules.DrawState(
        rules.Quantity(draw.drawn, unit),
        rules.Quantity(draw.administered, unit),
        rules.Quantity(draw.wasted, unit),
        rules.Quantity(draw.returned, unit),
    )


def _save_state(draw: Draw, state: rules.DrawState) -> None:
    draw.administered = state.administered.amount
    draw.wasted = state.wasted.amount
    draw.returned = state.returned.amount
    if state.closed:
        draw.closed_at = now()
    draw.save(update_fields=["administered", "wasted", "returned", "closed_at"])


def _when(occurred_at: datetime | None) -> datetime:
    """When it happened: now, or an earlier time the caller recorded; never in the future."""
    moment = now()
    if occurred_at is None:
        return moment
    if occurred_at > moment:
        raise Refused("That time is in the future.", field="occurred_at", code="in_the_future")
    return occurred_at


def _open_draw(draw: Draw) -> None:
    if draw.closed_at is not None:
        raise Refused("The draw is fully accounted for.", field="draw_id", code="draw_closed")


@transaction.atomic
def draw_create(
    *,
    actor: Actor,
    container_id: int,
    session_id: int,
    quantity: object,
    occurred_at: datetime | None = None,
) -> Draw:
    """Draw an amount from a container in stock for a session's dose (the container row locked).

    Two people drawing the last of one container at once queue on the row lock; the second
    sees the first's balance and is refused with `over_draw`.
    """
    actor.require(Permission.LEDGER_DRAW)
    session = session_source().session(clinic_id=actor.clinic_id, session_id=session_id)
    if session is None:
        raise Refused("No such session in this clinic.", field="session_id", code="not_found")
    if session.dosed:
        raise Refused("Dosing has ended in this session.", field="session_id", code="session_dosed")
    patient = patient_of_clinic(actor, session.patient_id)
    container = lock_container(actor, container_id)
    moment = _when(occurred_at)
    usable(actor, container, moment)
    amount = qty(quantity, container.product.unit)
    draw = Draw.objects.create(
        clinic=actor.clinic,
        container=container,
        patient=patient,
        session_id=session.session_id,
        unit=container.product.unit,
        drawn=amount.amount,
        drawn_by=actor.user,
        drawn_at=moment,
    )
    append(
        actor, container, kind=EntryKind.DRAW, amount=amount.amount, change=-amount.amount,
        draw=draw, session_id=draw.session_id, patient=patient, occurred_at=moment,
    )  # fmt: skip
    return draw


@transaction.atomic
def draw_administer(
    *, actor: Actor, draw_id: int, dose_mg: Decimal, lot: str | None = None,
    device_label: str | None = None, occurred_at: datetime | None = None,
) -> LedgerEntry:  # fmt: skip
    """Record the dose given from a draw, in delivered mg converted exactly to the product's unit.

    A lot (or esketamine device) that differs from the draw's is still recorded as given, and
    opens a discrepancy that blocks the container until someone resolves it with a reason.
    """
    actor.require(Permission.LEDGER_DRAW)
    draw, container = lock_draw(actor, draw_id)
    _open_draw(draw)
    mismatch = []
    if lot is not None and lot.strip() != container.lot.number:
        mismatch.append(f"lot {lot.strip()} recorded as given, lot {container.lot.number} drawn")
    if device_label is not None and device_label.strip() != container.label:
        mismatch.append(f"device {device_label.strip()} given, {container.label} drawn")
    if mismatch:
        # What was given is recorded as given; the container is held until someone explains it.
        open_discrepancy(
            actor, container, kind=DiscrepancyKind.LOT_MISMATCH, description="; ".join(mismatch)
        )
    product = container.product
    facts = rules.ProductFacts(rules.Unit(product.unit), product.mg_per_unit)
    given = ask(lambda: rules.positive(rules.mg_to_unit(dose_mg, facts)), "dose_mg")
    state = ask(lambda: _state(draw).dispose(rules.Disposition.ADMINISTERED, given))
    _save_state(draw, state)
    return append(
        actor, container, kind=EntryKind.ADMINISTRATION, amount=given.amount, change=Decimal(0),
        draw=draw, session_id=draw.session_id, patient=draw.patient, dose_mg=dose_mg,
        detail={"mismatch": mismatch} if mismatch else {}, occurred_at=_when(occurred_at),
    )  # fmt: skip


@transaction.atomic
def draw_waste(
    *, actor: Actor, draw_id: int, quantity: object, witness_username: str, witness_password: str,
    reason: str = "",
) -> LedgerEntry:  # fmt: skip
    """Waste what is left of a draw, witnessed by a second person who re-enters their password."""
    actor.require(Permission.LEDGER_DRAW)
    draw, container = lock_draw(actor, draw_id)
    _open_draw(draw)
    witness = second_person(
        actor, username=witness_username, password=witness_password,
        permission=Permission.LEDGER_WITNESS, field="witness_username",
    )  # fmt: skip
    ask(lambda: rules.witness_ok(drawn_by=draw.drawn_by_id, witness=witness.pk), "witness_username")
    if witness.pk == actor.user.pk:
        raise Refused("A witness is a second person.", field="witness_username", code="same_person")
    amount = qty(quantity, draw.unit)
    state = ask(lambda: _state(draw).dispose(rules.Disposition.WASTED, amount))
    _save_state(draw, state)
    return append(
        actor, container, kind=EntryKind.WASTE, amount=amount.amount, change=Decimal(0),
        draw=draw, session_id=draw.session_id, patient=draw.patient, witness=witness,
        reason=text(reason, "reason", required=False),
    )  # fmt: skip


@transaction.atomic
def draw_return(*, actor: Actor, draw_id: int, quantity: object) -> LedgerEntry:
    """Return an unused part of a draw to its container's stock."""
    actor.require(Permission.LEDGER_DRAW)
    draw, container = lock_draw(actor, draw_id)
    _open_draw(draw)
    amount = qty(quantity, draw.unit)
    state = ask(lambda: _state(draw).dispose(rules.Disposition.RETURNED, amount))
    _save_state(draw, state)
    return append(
        actor, container, kind=EntryKind.RETURN, amount=amount.amount, change=amount.amount,
        draw=draw, session_id=draw.session_id, patient=draw.patient,
    )  # fmt: skip
