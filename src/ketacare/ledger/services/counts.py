"""Counts and what they find: inventories, shift counts, discrepancies, adjustments, corrections."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import ledger as rules
from ketacare.errors import Refused
from ketacare.ledger.models import (
    Container,
    ContainerStatus,
    Count,
    CountKind,
    CountLine,
    CountTiming,
    Discrepancy,
    DiscrepancyKind,
    EntryKind,
    LedgerEntry,
    Registration,
)
from ketacare.ledger.services.base import (
    append,
    ask,
    core_refusals,
    lock_container,
    now,
    open_discrepancy,
    second_person,
    text,
)


@dataclass(frozen=True)
class CountedLine:
    """One container as counted: the amount found and whether an opened one was measured."""

    container_id: int
    counted: object
    measured: bool = False


@transaction.atomic
def count_record(
    *, actor: Actor, registration_id: int, kind: str, timing: str = "",
    second_username: str, second_password: str, lines: Sequence[CountedLine],
) -> Count:  # fmt: skip
    """Record a count by two people; every container whose count differs gets a discrepancy.

    Inventories (initial, biennial) say whether they were taken at the opening or close of
    business (21 CFR 1304.11(a)); every container in stock at the location must be counted.
    """
    actor.require(Permission.LEDGER_COUNT)
    if kind not in CountKind.values:
        raise Refused("Choose the kind of count.", field="kind", code="invalid")
    if kind != CountKind.SHIFT and timing not in CountTiming.values:
        raise Refused(
            "Say whether the inventory was taken at the opening or close of business.",
            field="timing",
            code="required",
        )
    registration = Registration.objects.filter(
        pk=registration_id, clinic_id=actor.clinic_id
    ).first()
    if registration is None:
        raise Refused("No such registration.", field="registration_id", code="not_found")
    second = second_person(
        actor, username=second_username, password=second_password,
        permission=Permission.LEDGER_COUNT, field="second_username",
    )  # fmt: skip
    ask(
        lambda: rules.two_people(first=actor.user.pk, second=second.pk, what="count"),
        "second_username",
    )
    by_id = {line.container_id: line for line in lines}
    if not by_id:
        raise Refused("Count at least one container.", field="lines", code="required")
    in_stock = set(
        Container.objects.filter(clinic_id=actor.clinic_id, registration=registration)
        .exclude(status=ContainerStatus.GONE)
        .values_list("pk", flat=True)
    )
    unknown = set(by_id) - in_stock
    if unknown:
        raise Refused("A counted container is not in stock here.", field="lines", code="not_found")
    if kind != CountKind.SHIFT and in_stock - set(by_id):
        raise Refused(
            "An inventory counts every container in stock at the location.",
            field="lines",
            code="incomplete_inventory",
        )
    count = Count.objects.create(
        clinic=actor.clinic, registration=registration, kind=kind,
        timing=timing if kind != CountKind.SHIFT else "", taken_at=now(),
        counted_by=actor.user, second_counter=second,
    )  # fmt: skip
    for container_id in sorted(by_id):  # one lock order, by id
        container = lock_container(actor, container_id)
        line = by_id[container_id]
        unit = rules.Unit(container.product.unit)
        expected = rules.Quantity(container.balance, unit)
        with core_refusals("counted"):
            counted = rules.quantity(line.counted, unit, field="counted")
            difference = rules.variance(expected=expected, counted=counted)
        discrepancy = None
        if not difference.is_zero:
            discrepancy = open_discrepancy(
                actor, container, kind=DiscrepancyKind.COUNT_VARIANCE,
                description=f"{count.get_kind_display()}: ledger {expected}, counted {counted}.",
                expected=expected.amount, found=counted.amount,
            )  # fmt: skip
        CountLine.objects.create(
            clinic=actor.clinic, count=count, container=container, expected=expected.amount,
            counted=counted.amount, measured=line.measured, discrepancy=discrepancy,
        )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.CREATE, object_type="ledger_count", object_id=count.pk,
        detail={"kind": kind, "lines": len(by_id)},
    )  # fmt: skip
    return count


@transaction.atomic
def discrepancy_open(
    *, actor: Actor, container_id: int, description: str, kind: str = DiscrepancyKind.OTHER
) -> Discrepancy:
    """Open a discrepancy by hand (something does not add up); it blocks the container."""
    actor.require(Permission.LEDGER_COUNT)
    container = lock_container(actor, container_id)
    return open_discrepancy(
        actor, container, kind=kind, description=text(description, "description")
    )


@transaction.atomic
def discrepancy_resolve(
    *, actor: Actor, discrepancy_id: int, resolution: str, adjust_to: object = None,
    cosigner_username: str = "", cosigner_password: str = "",
) -> Discrepancy:  # fmt: skip
    """Resolve a discrepancy with a reason; an adjustment of the balance needs a co-signature.

    The container is unblocked when no other discrepancy on it is open.
    """
    actor.require(Permission.LEDGER_ADJUST)
    found = Discrepancy.objects.filter(pk=discrepancy_id, clinic_id=actor.clinic_id).first()
    if found is None:
        raise Refused("No such discrepancy.", field="discrepancy_id", code="not_found")
    container = lock_container(actor, found.container_id)
    discrepancy = Discrepancy.objects.select_for_update().get(pk=found.pk)
    if discrepancy.resolved_at is not None:
        raise Refused("Already resolved.", field="discrepancy_id", code="already_resolved")
    reason = text(resolution, "resolution")
    if adjust_to not in (None, ""):
        cosigner = second_person(
            actor, username=cosigner_username, password=cosigner_password,
            permission=Permission.LEDGER_ADJUST, field="cosigner_username",
        )  # fmt: skip
        ask(
            lambda: rules.adjustment_ok(
                reason=reason, recorded_by=actor.user.pk, cosigned_by=cosigner.pk
            ),
            "cosigner_username",
        )
        unit = rules.Unit(container.product.unit)
        target = ask(lambda: rules.quantity(adjust_to, unit, field="adjust_to"), "adjust_to")
        change = target.amount - container.balance
        if change != 0:
            discrepancy.adjustment = append(
                actor, container, kind=EntryKind.ADJUSTMENT, amount=abs(change), change=change,
                witness=cosigner, reason=reason, detail={"discrepancy_id": discrepancy.pk},
            )  # fmt: skip
    discrepancy.resolved_at = now()
    discrepancy.resolved_by = actor.user
    discrepancy.resolution = reason
    discrepancy.save(update_fields=["resolved_at", "resolved_by", "resolution", "adjustment"])
    still_open = Discrepancy.objects.filter(container=container, resolved_at__isnull=True).exists()
    if not still_open:
        container.blocked = False
        container.save(update_fields=["blocked"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, object_type="ledger_discrepancy",
        object_id=discrepancy.pk, detail={"resolved": True},
    )  # fmt: skip
    return discrepancy


@transaction.atomic
def entry_correct(
    *, actor: Actor, entry_id: int, change: object, reason: str, cosigner_username: str,
    cosigner_password: str,
) -> LedgerEntry:  # fmt: skip
    """Correct an entry with a new one that points at it: a signed change, a reason, a co-signer."""
    actor.require(Permission.LEDGER_ADJUST)
    original = LedgerEntry.objects.filter(pk=entry_id, clinic_id=actor.clinic_id).first()
    if original is None:
        raise Refused("No such entry.", field="entry_id", code="not_found")
    container = lock_container(actor, original.container_id)
    why = text(reason, "reason")
    cosigner = second_person(
        actor, username=cosigner_username, password=cosigner_password,
        permission=Permission.LEDGER_ADJUST, field="cosigner_username",
    )  # fmt: skip
    ask(
        lambda: rules.adjustment_ok(reason=why, recorded_by=actor.user.pk, cosigned_by=cosigner.pk),
        "cosigner_username",
    )
    delta = ask(lambda: rules.quantity(change, container.product.unit, field="change"), "change")
    return append(
        actor, container, kind=EntryKind.CORRECTION, amount=abs(delta.amount),
        change=delta.amount, corrects=original, witness=cosigner, reason=why,
        session_id=original.session_id, patient=original.patient,
        detail={"corrects_seq": original.seq},
    )  # fmt: skip
