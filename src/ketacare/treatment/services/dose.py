"""The dose order, its independent verification, and its rejection."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.accounts.reauth import reauth_require
from ketacare.audit.models import AuditAction
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.scheduling.selectors import clinic_zone, local_date
from ketacare.treatment.models import (
    DoseOrder,
    DoseOrderStatus,
)
from ketacare.treatment.plans import compute_plan, order_fields, plan_as_json
from ketacare.treatment.services.steps import (
    S,
    _audit,
    _begin_versioned_step,
    _clearance,
    _current_pre_check,
    _live_order,
    _move,
    _settle,
    _text,
)

# --- the dose -----------------------------------------------------------------------------------


@transaction.atomic
def dose_order_create(
    *,
    actor: Actor,
    session_id: int,
    version: int,
    idempotency_key: str,
    inputs: Mapping[str, Any],
    override_reason: str | None = None,
) -> DoseOrder:
    """The prescriber orders the dose the core computes from today's weight.

    A warning outside the protocol's range needs `override_reason`; a hard stop is refused
    whatever the reason. The prescriber re-authenticates (password or signing PIN).
    """
    reauth_require(actor, what="the dose order")
    session, replayed = _begin_versioned_step(
        actor,
        Permission.DOSE_ORDER,
        session_id,
        idempotency_key,
        "dose_order",
        DoseOrder,
        version=version,
        target=S.ORDERED,
    )
    if replayed is not None:
        return replayed
    clearance = _clearance(session)
    if not clearance.may_start:
        raise Refused(clearance.reason, field="status", code="start_not_cleared")
    pre_check = _current_pre_check(session)
    if pre_check is None:  # pragma: no cover - a pre-checked session has its check
        raise Refused("Record the pre-dose checks first.", field="status", code="no_pre_check")
    reason = _text(override_reason, "override_reason", required=False) or None
    now = clock.now()
    plan = compute_plan(
        session=session,
        pre_check=pre_check,
        inputs=dict(inputs),
        override_reason=reason,
        today=local_date(now, clinic_zone(actor.clinic)),
    )
    plan.ensure_may_proceed()
    fields = order_fields(plan)
    container = inputs.get("container_volume_ml")
    order = DoseOrder.objects.create(
        clinic=actor.clinic,
        session=session,
        pre_check=pre_check,
        route=session.route,
        inputs={k: (str(v) if v is not None else None) for k, v in inputs.items()},
        plan=plan_as_json(plan),
        container_volume_ml=Decimal(str(container)) if container is not None else None,
        ordered_by=actor.user,
        ordered_at=now,
        **fields,
    )
    _move(session, S.ORDERED)
    _audit(
        actor,
        AuditAction.SIGN,
        "dose_order",
        order.pk,
        session,
        {
            "dose_mg": str(order.dose_mg),
            "warnings": [w["code"] for w in order.warnings],
            "override_reason": bool(order.override_reason),
        },
    )
    _settle(actor, idempotency_key, session, order.pk)
    return order


@transaction.atomic
def dose_order_verify(
    *, actor: Actor, session_id: int, version: int, idempotency_key: str
) -> DoseOrder:
    """A second clinician, not the orderer, verifies the order; the core recomputes it first.

    The verifier re-authenticates (password or signing PIN).
    """
    reauth_require(actor, what="the verification")
    session, replayed = _begin_versioned_step(
        actor,
        Permission.DOSE_VERIFY,
        session_id,
        idempotency_key,
        "dose_verify",
        DoseOrder,
        version=version,
        target=S.VERIFIED,
    )
    if replayed is not None:
        return replayed
    order = _live_order(session)
    if order is None or order.status != DoseOrderStatus.ORDERED:
        raise Refused("There is no order awaiting verification.", field="status", code="no_order")
    if order.ordered_by_id == actor.user.pk:
        raise Refused(
            "You ordered this dose: a second clinician must verify it.",
            field="verified_by",
            code="same_person",
        )
    recomputed = compute_plan(
        session=session,
        pre_check=order.pre_check,
        inputs={k: v for k, v in order.inputs.items() if v is not None},
        override_reason=order.override_reason or None,
        today=local_date(order.ordered_at, clinic_zone(actor.clinic)),
    )
    if recomputed.dose_mg != order.dose_mg or recomputed.volume_ml != order.volume_ml:
        raise Conflict(
            "The dose no longer recomputes to the ordered amount; the prescriber must reorder.",
            field="dose_mg",
            code="order_changed",
        )
    order.status = DoseOrderStatus.VERIFIED
    order.verified_by = actor.user
    order.verified_at = clock.now()
    order.save(update_fields=["status", "verified_by", "verified_at"])
    _move(session, S.VERIFIED)
    _audit(actor, AuditAction.SIGN, "dose_verification", order.pk, session)
    _settle(actor, idempotency_key, session, order.pk)
    return order


@transaction.atomic
def dose_order_reject(
    *, actor: Actor, session_id: int, version: int, idempotency_key: str, reason: str
) -> DoseOrder:
    """The verifier (or the orderer) sends the order back with a reason; a new one is needed."""
    session, replayed = _begin_versioned_step(
        actor,
        Permission.DOSE_VERIFY,
        session_id,
        idempotency_key,
        "dose_reject",
        DoseOrder,
        version=version,
        target=S.PRE_CHECKED,
    )
    if replayed is not None:
        return replayed
    order = _live_order(session)
    if order is None or order.status != DoseOrderStatus.ORDERED:
        raise Refused("There is no order awaiting verification.", field="status", code="no_order")
    order.status = DoseOrderStatus.REJECTED
    order.rejected_by = actor.user
    order.rejected_at = clock.now()
    order.rejection_reason = _text(reason, "reason")
    order.save(update_fields=["status", "rejected_by", "rejected_at", "rejection_reason"])
    _move(session, S.PRE_CHECKED)
    _audit(actor, AuditAction.UPDATE, "dose_order", order.pk, session, {"rejected": True})
    _settle(actor, idempotency_key, session, order.pk)
    return order
