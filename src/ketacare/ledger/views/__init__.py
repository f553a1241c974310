"""Ledger pages, re-exported by step: stock and draws (`pages`), movements (`movements`)."""

from ketacare.ledger.views.common import attempt
from ketacare.ledger.views.movements import container_transfer, entry_correct, opening
from ketacare.ledger.views.pages import (
    container_destroy,
    container_detail,
    container_loss,
    count,
    discrepancy_detail,
    discrepancy_list,
    draw_return,
    draw_waste,
    loss_update,
    losses,
    receive,
    session_draws,
    stock,
)

__all__ = [
    "attempt",
    "container_destroy",
    "container_detail",
    "container_loss",
    "container_transfer",
    "count",
    "discrepancy_detail",
    "discrepancy_list",
    "draw_return",
    "draw_waste",
    "entry_correct",
    "loss_update",
    "losses",
    "opening",
    "receive",
    "session_draws",
    "stock",
]
