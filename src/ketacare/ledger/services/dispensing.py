"""Dispensing a home supply from the clinic's stock: a patient's at-home prescription filled
from a container of lozenges, recorded in the ledger as the 1304.22(c) dispensing record needs
it (substance, form and strength, quantity, patient, date, who)."""

from decimal import Decimal

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.clinical import ledger as rules
from ketacare.ledger.models import EntryKind, LedgerEntry
from ketacare.ledger.services.base import (
    append,
    ask,
    lock_container,
    now,
    patient_of_clinic,
    text,
    usable,
)


@transaction.atomic
def home_supply_dispense(
    *, actor: Actor, container_id: int, patient_id: int, units: int, strength_mg: Decimal,
    reference: str,
) -> LedgerEntry:  # fmt: skip
    """Take `units` lozenges of `strength_mg` from a container in stock for a patient's home
    supply (the container row locked, so two fills cannot take the same last lozenges)."""
    actor.require(Permission.LEDGER_DRAW)
    patient = patient_of_clinic(actor, patient_id)
    container = lock_container(actor, container_id)
    moment = now()
    usable(actor, container, moment)
    product = container.product
    facts = rules.ProductFacts(rules.Unit(product.unit), product.mg_per_unit)
    supply = ask(
        lambda: rules.home_supply(facts, strength_mg=strength_mg, units=units), "container_id"
    )
    return append(
        actor, container, kind=EntryKind.DISPENSING, amount=supply.amount, change=-supply.amount,
        patient=patient, dose_mg=rules.unit_to_mg(supply, facts),
        reason=text(reference, "reference", limit=200), occurred_at=moment,
    )  # fmt: skip
