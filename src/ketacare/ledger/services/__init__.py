"""Writes to the controlled-substance ledger, each one transaction (re-exported by step)."""

from ketacare.ledger.services.counts import (
    count_record,
    discrepancy_open,
    discrepancy_resolve,
    entry_correct,
)
from ketacare.ledger.services.dispensing import home_supply_dispense
from ketacare.ledger.services.disposals import (
    destruction_record,
    theft_loss_record,
    theft_loss_update,
    transfer_record,
)
from ketacare.ledger.services.draws import (
    draw_administer,
    draw_create,
    draw_return,
    draw_waste,
)
from ketacare.ledger.services.stock import (
    opening_record,
    product_create,
    receipt_record,
    registration_create,
    storage_create,
)
from ketacare.ledger.services.witnesses import WitnessNotConfirmed, witness_failure_record

__all__ = [
    "WitnessNotConfirmed",
    "count_record",
    "destruction_record",
    "discrepancy_open",
    "discrepancy_resolve",
    "draw_administer",
    "draw_create",
    "draw_return",
    "draw_waste",
    "entry_correct",
    "home_supply_dispense",
    "opening_record",
    "product_create",
    "receipt_record",
    "registration_create",
    "storage_create",
    "theft_loss_record",
    "theft_loss_update",
    "transfer_record",
    "witness_failure_record",
]
