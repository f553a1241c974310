"""Supply writes: the first fill, losses, follow-up reviews with their count, refills."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.athome.models import (
    FollowUpReview,
    HomeProgramme,
    RefillDecision,
    SupplyKind,
    SupplyMovement,
    VisitModality,
)
from ketacare.athome.selectors import clinic_day, refill_facts
from ketacare.athome.services.programme import _programme, _text
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.athome import check_refill
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.idempotency import ensure_key, replayed
from ketacare.ledger.services import home_supply_dispense


def _movement(
    actor: Actor, programme: HomeProgramme, *, kind: str, units: int, key: str, note: str = "",
    from_container_id: int | None = None,
) -> SupplyMovement:  # fmt: skip
    """One supply movement; filled from the clinic's own stock (`from_container_id`), the same
    transaction writes the ledger's dispensing entry, so the two can never disagree."""
    if units < 1:
        raise Refused("At least one unit.", field="units", code="invalid")
    prescription = programme.prescriptions.first()
    entry_id = None
    if from_container_id is not None:
        if prescription is None:
            raise Refused(
                "Sign a prescription first.", field="prescription", code="no_prescription"
            )
        entry_id = home_supply_dispense(
            actor=actor, container_id=from_container_id, patient_id=programme.patient_id,
            units=units, strength_mg=prescription.strength_mg,
            reference=f"At-home prescription {prescription.pk} ({kind})",
        ).pk  # fmt: skip
    movement = SupplyMovement.objects.create(
        clinic=actor.clinic, programme=programme, patient_id=programme.patient_id, kind=kind,
        units=units, prescription=prescription, note=note, occurred_at=clock.now(),
        recorded_by=actor.user, idempotency_key=key, ledger_entry_id=entry_id,
    )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.CREATE, object_type="home_supply",
        object_id=movement.pk, patient_id=programme.patient_id,
        detail={"kind": kind, "units": units, "ledger_entry_id": entry_id},
    )  # fmt: skip
    return movement


def _replay(actor: Actor, key: str, programme: HomeProgramme, kind: str) -> SupplyMovement | None:
    return replayed(
        SupplyMovement, clinic_id=actor.clinic_id, key=key,
        same=lambda m: m.programme_id == programme.pk and m.kind == kind,
    )  # fmt: skip


@transaction.atomic
def supply_dispense(
    *, actor: Actor, programme_id: int, idempotency_key: str, from_container_id: int | None = None
) -> SupplyMovement:
    """Record the first fill of the signed prescription (its quantity) as at home: dispensed by
    the pharmacy named on it, or by the clinic from a container of its stock (the ledger)."""
    actor.require(Permission.ATHOME_SUPPLY)
    key = ensure_key(idempotency_key)
    programme = _programme(actor, programme_id)
    earlier = _replay(actor, key, programme, SupplyKind.DISPENSED)
    if earlier is not None:
        return earlier
    prescription = programme.prescriptions.first()
    if prescription is None:
        raise Refused("Sign a prescription first.", field="prescription", code="no_prescription")
    if programme.supply.filter(kind=SupplyKind.DISPENSED, prescription=prescription).exists():
        raise Refused(
            "This prescription's first fill is recorded; later supply is a refill.",
            field="prescription",
            code="already_dispensed",
        )
    return _movement(
        actor, programme, kind=SupplyKind.DISPENSED, units=prescription.quantity, key=key,
        from_container_id=from_container_id,
    )  # fmt: skip


@transaction.atomic
def supply_loss_report(
    *, actor: Actor, programme_id: int, units: int, note: str, idempotency_key: str
) -> SupplyMovement:
    """Record units the patient reports lost or missing (a misuse signal; counts reconcile)."""
    actor.require(Permission.ATHOME_SUPPLY)
    key = ensure_key(idempotency_key)
    programme = _programme(actor, programme_id)
    earlier = _replay(actor, key, programme, SupplyKind.LOST)
    if earlier is not None:
        return earlier
    return _movement(
        actor, programme, kind=SupplyKind.LOST, units=units, key=key,
        note=_text(note, "note", limit=2000),
    )  # fmt: skip


@transaction.atomic
def review_record(
    *, actor: Actor, programme_id: int, reviewed_on: date, modality: str, note: str,
    counted_units: int,
) -> FollowUpReview:  # fmt: skip
    """Record a follow-up visit: its modality, the note, and the units counted at home."""
    actor.require(Permission.ATHOME_REVIEW)
    programme = _programme(actor, programme_id)
    if modality not in VisitModality.values:
        raise Refused("Choose how the visit took place.", field="modality", code="invalid")
    if reviewed_on > clinic_day(actor.clinic.time_zone):
        raise Refused(
            "The visit cannot be in the future.", field="reviewed_on", code="in_the_future"
        )
    if counted_units < 0:
        raise Refused("Count 0 or more units.", field="counted_units", code="invalid")
    review = FollowUpReview.objects.create(
        clinic=actor.clinic, programme=programme, patient_id=programme.patient_id,
        reviewed_on=reviewed_on, modality=modality, note=_text(note, "note", limit=5000),
        counted_units=counted_units, reviewed_by=actor.user, recorded_at=clock.now(),
    )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.CREATE, object_type="home_review",
        object_id=review.pk, patient_id=programme.patient_id,
        detail={"modality": modality, "counted_units": counted_units},
    )  # fmt: skip
    return review


def refill_release(
    *, actor: Actor, programme_id: int, idempotency_key: str, from_container_id: int | None = None
) -> SupplyMovement:
    """Release a refill (the prescription's quantity) when the core's refill gate passes.

    Every request is kept as a decision, a refused one with the core's codes (staff and the
    misuse signals read them), and the refusal is raised after that decision is committed."""
    actor.require(Permission.ATHOME_PRESCRIBE)
    key = ensure_key(idempotency_key)
    with transaction.atomic():
        programme = _programme(actor, programme_id)
        earlier = _replay(actor, key, programme, SupplyKind.REFILL)
        if earlier is not None:
            return earlier
        prescription = programme.prescriptions.first()
        if prescription is None:
            raise Refused(
                "Sign a prescription first.", field="prescription", code="no_prescription"
            )
        blockers = check_refill(refill_facts(programme, today=clinic_day(actor.clinic.time_zone)))
        decision = RefillDecision.objects.create(
            clinic=actor.clinic, programme=programme, patient_id=programme.patient_id,
            released=not blockers, refused_codes=[b.code for b in blockers],
            decided_at=clock.now(), decided_by=actor.user,
        )  # fmt: skip
        audit_record(
            actor=actor, action=AuditAction.CREATE, object_type="home_refill_decision",
            object_id=decision.pk, patient_id=programme.patient_id,
            detail={"released": not blockers, "codes": decision.refused_codes},
        )  # fmt: skip
        if not blockers:
            return _movement(
                actor, programme, kind=SupplyKind.REFILL, units=prescription.quantity, key=key,
                from_container_id=from_container_id,
            )  # fmt: skip
    refusal = blockers[0]
    raise Refused(refusal.reason, field=refusal.field, code=refusal.code)
