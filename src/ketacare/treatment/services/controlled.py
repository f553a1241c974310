"""The session's ties to the controlled-substance ledger and the SPRAVATO REMS.

Dosing may start only from draws of this session out of containers in stock that cover the
verified dose; the REMS gate refuses a REMS protocol at an uncertified setting (check-in) and
for a patient not enrolled (dose). When dosing ends, the delivered mg are recorded in the
ledger against the session's draws, and a REMS session opens its monitoring form.
"""

from datetime import datetime
from decimal import Decimal

from ketacare.accounts.access import Actor
from ketacare.clinical import InvalidInput, ProtocolViolation
from ketacare.clinical import ledger as ledger_rules
from ketacare.clinical import rems as rems_rules
from ketacare.errors import Refused
from ketacare.ledger import services as ledger
from ketacare.ledger.models import Draw
from ketacare.rems import selectors as rems_selectors
from ketacare.rems import services as rems
from ketacare.scheduling.selectors import clinic_zone, local_date
from ketacare.treatment.delivered import delivered_mg
from ketacare.treatment.models import Administration, DoseOrder, TreatmentSession
from ketacare.treatment.plans import protocol_of


def rems_gate(session: TreatmentSession, *, dosing: bool) -> None:
    """Refuse a REMS session at an uncertified setting, or its dose for a patient not enrolled."""
    protocol = protocol_of(session)
    if not rems_rules.under_rems(protocol):
        return
    day = local_date(session.checked_in_at, clinic_zone(session.clinic))
    facts = rems_selectors.rems_facts(
        clinic_id=session.clinic_id, patient_id=session.patient_id, on=day
    )
    try:
        rems_rules.rems_gate(protocol=protocol, facts=facts, dosing=dosing)
    except ProtocolViolation as refusal:
        raise Refused(refusal.reason, field="status", code=refusal.code) from None


def _open_draws(session: TreatmentSession) -> list[Draw]:
    return list(
        Draw.objects.filter(session_id=session.pk, clinic_id=session.clinic_id, closed_at=None)
        .select_related("container__product", "container__lot")
        .order_by("drawn_at", "id")
    )


def _mg_left(draw: Draw) -> Decimal:
    product = draw.container.product
    left = draw.drawn - draw.administered - draw.wasted - draw.returned
    facts = ledger_rules.ProductFacts(ledger_rules.Unit(product.unit), product.mg_per_unit)
    return ledger_rules.unit_to_mg(ledger_rules.Quantity(left, facts.unit), facts)


def require_draw(session: TreatmentSession, order: DoseOrder) -> None:
    """Dosing needs draws of this session, from containers in stock, covering the verified dose."""
    draws = _open_draws(session)
    if not draws:
        raise Refused(
            "Draw the dose from a container in stock first (Controlled substance).",
            field="status",
            code="no_draw",
        )
    drawn = sum((_mg_left(d) for d in draws), Decimal(0))
    if drawn < order.dose_mg:
        raise Refused(
            f"The draws hold {ledger_rules.format_amount(drawn)} mg; the verified dose is "
            f"{ledger_rules.format_amount(order.dose_mg)} mg. Draw the rest first.",
            field="status",
            code="draw_short",
        )


def record_given(
    actor: Actor, session: TreatmentSession, administration: Administration, at: datetime
) -> None:
    """Record the delivered mg against the session's draws, in the order they were drawn."""
    remaining = delivered_mg(administration)
    for draw in _open_draws(session):
        if remaining <= 0:
            break
        take = min(remaining, _mg_left(draw))
        if take <= 0:
            continue
        try:
            ledger.draw_administer(
                actor=actor, draw_id=draw.pk, dose_mg=take, lot=administration.lot, occurred_at=at
            )
        except InvalidInput as invalid:  # pragma: no cover - the ledger maps these itself
            raise Refused(invalid.message, field="lot", code="invalid") from None
        remaining -= take
    if remaining > 0:
        raise Refused(
            f"{ledger_rules.format_amount(remaining)} mg given were never drawn.",
            field="status",
            code="draw_short",
        )


def open_monitoring_form(session: TreatmentSession) -> None:
    """A REMS session owes a monitoring form within 7 calendar days; open it once."""
    if rems_rules.under_rems(protocol_of(session)):
        rems.monitoring_form_open(
            clinic_id=session.clinic_id,
            session_id=session.pk,
            patient_id=session.patient_id,
            session_day=local_date(session.checked_in_at, clinic_zone(session.clinic)),
        )
