"""The dose delivered, in mg, as the controlled-substance record and reconciliation count it."""

from decimal import Decimal

from ketacare.treatment.models import Administration


def delivered_mg(administration: Administration) -> Decimal:
    """The dose delivered, in mg: what the controlled-substance record uses (reference §3).

    An infusion stopped with a measured volume delivers volume × concentration; esketamine
    delivers the order's mg per device for each device used; otherwise the verified dose.
    """
    order = administration.dose_order
    if administration.volume_infused_ml is not None and administration.concentration_mg_per_ml:
        return administration.volume_infused_ml * administration.concentration_mg_per_ml
    if order.devices:
        used = administration.devices.count()
        return order.dose_mg / order.devices * used
    return order.dose_mg
