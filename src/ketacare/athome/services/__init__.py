"""Writes of the at-home programme, each one transaction (re-exported by step)."""

from ketacare.athome.services.doses import (
    home_dose_gate,
    home_dose_open,
    home_dose_sitter_attest,
    home_dose_sitter_checkin,
    home_dose_take,
    home_dose_tracker_submit,
)
from ketacare.athome.services.links import programme_links_issue
from ketacare.athome.services.programme import dose_step_decide, prescription_issue, programme_enrol
from ketacare.athome.services.status import programme_status_change
from ketacare.athome.services.supply import (
    refill_release,
    review_record,
    supply_dispense,
    supply_loss_report,
)

__all__ = [
    "dose_step_decide",
    "home_dose_gate",
    "home_dose_open",
    "home_dose_sitter_attest",
    "home_dose_sitter_checkin",
    "home_dose_take",
    "home_dose_tracker_submit",
    "prescription_issue",
    "programme_links_issue",
    "programme_enrol",
    "programme_status_change",
    "refill_release",
    "review_record",
    "supply_dispense",
    "supply_loss_report",
]
