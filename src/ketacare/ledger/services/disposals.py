"""Stock leaving other than by a dose: destruction, reverse distribution, theft, transfers."""

from datetime import date

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import ledger as rules
from ketacare.errors import Refused
from ketacare.ledger.models import (
    ContainerStatus,
    EntryKind,
    LedgerEntry,
    Registration,
    StorageLocation,
    TheftLoss,
    TheftLossKind,
)
from ketacare.ledger.services.base import (
    append,
    ask,
    clinic_day,
    lock_container,
    now,
    qty,
    second_person,
    text,
)


def _gone_if_empty(entry: LedgerEntry) -> None:
    container = entry.container
    if container.balance == 0:
        container.status = ContainerStatus.GONE
        container.save(update_fields=["status"])


@transaction.atomic
def destruction_record(
    *, actor: Actor, container_id: int, quantity: object, method: str,
    witness_username: str, witness_password: str, second_witness_username: str,
    second_witness_password: str, reverse_distributor: dict[str, str] | None = None,
) -> LedgerEntry:  # fmt: skip
    """Destroy stock before two witnesses (DEA Form 41), or hand it to a reverse distributor.

    Both witnesses re-enter their passwords; neither may be the person recording it. Expired
    or blocked containers may be destroyed (that is what destruction is for).
    """
    actor.require(Permission.LEDGER_DESTROY)
    container = lock_container(actor, container_id)
    how = text(method, "method", limit=500)
    first = second_person(
        actor, username=witness_username, password=witness_password,
        permission=Permission.LEDGER_WITNESS, field="witness_username",
    )  # fmt: skip
    second = second_person(
        actor, username=second_witness_username, password=second_witness_password,
        permission=Permission.LEDGER_WITNESS, field="second_witness_username",
    )  # fmt: skip
    ask(
        lambda: rules.destruction_witnesses_ok(
            recorded_by=actor.user.pk, witnesses=[first.pk, second.pk]
        ),
        "witness_username",
    )
    amount = qty(quantity, container.product.unit)
    detail: dict[str, str] = {
        "method": how,
        "place": container.registration.address,
        "registrant_dea": container.registration.dea_number,
        "ndc": container.product.ndc,
        "lot": container.lot.number,
    }
    kind = EntryKind.DESTRUCTION
    if reverse_distributor:
        kind = EntryKind.REVERSE_DISTRIBUTOR
        for key in ("name", "address", "dea_number"):
            detail[f"distributor_{key}"] = text(
                reverse_distributor.get(key), f"distributor_{key}", limit=500
            )
    entry = append(
        actor, container, kind=kind, amount=amount.amount, change=-amount.amount,
        witness=first, second_witness=second, reason=how, detail=detail,
    )  # fmt: skip
    _gone_if_empty(entry)
    return entry


@transaction.atomic
def theft_loss_record(
    *, actor: Actor, container_id: int, quantity: object, kind: str, discovered_on: date,
    circumstances: str, police_report: str = "",
) -> TheftLoss:  # fmt: skip
    """Record a theft or loss with the data DEA Form 106 needs and its two deadlines."""
    actor.require(Permission.LEDGER_ADJUST)
    if kind not in TheftLossKind.values:
        raise Refused("Choose theft, loss or loss in transit.", field="kind", code="invalid")
    today = clinic_day(actor, now())
    if discovered_on > today:
        raise Refused("Discovery cannot be in the future.", field="discovered_on", code="invalid")
    container = lock_container(actor, container_id)
    amount = qty(quantity, container.product.unit)
    what = text(circumstances, "circumstances")
    deadlines = rules.theft_loss_deadlines(discovered_on=discovered_on)
    entry = append(
        actor, container, kind=EntryKind.THEFT_LOSS, amount=amount.amount, change=-amount.amount,
        reason=what, detail={"kind": kind, "discovered_on": discovered_on.isoformat()},
    )  # fmt: skip
    _gone_if_empty(entry)
    return TheftLoss.objects.create(
        clinic=actor.clinic,
        entry=entry,
        kind=kind,
        discovered_on=discovered_on,
        circumstances=what,
        police_report=text(police_report, "police_report", required=False, limit=100),
        notice_due_on=deadlines.notice_due,
        form_106_due_on=deadlines.form_106_due,
        recorded_by=actor.user,
    )


@transaction.atomic
def theft_loss_update(
    *, actor: Actor, theft_loss_id: int, notice_sent_on: date | None = None,
    form_106_filed_on: date | None = None, form_106_number: str = "",
) -> TheftLoss:  # fmt: skip
    """Record that the notice went to DEA and that Form 106 was filed (dates only move forward)."""
    actor.require(Permission.LEDGER_ADJUST)
    record = (
        TheftLoss.objects.select_for_update()
        .filter(pk=theft_loss_id, clinic_id=actor.clinic_id)
        .first()
    )
    if record is None:
        raise Refused("No such report.", field="theft_loss_id", code="not_found")
    today = clinic_day(actor, now())
    for field, value in (
        ("notice_sent_on", notice_sent_on),
        ("form_106_filed_on", form_106_filed_on),
    ):
        if value is None:
            continue
        if value > today or value < record.discovered_on:
            raise Refused("Between discovery and today.", field=field, code="invalid_date")
        if getattr(record, field) is not None:
            raise Refused("Already recorded.", field=field, code="already_recorded")
        setattr(record, field, value)
    if form_106_filed_on is not None:
        record.form_106_number = text(form_106_number, "form_106_number", limit=64)
    record.save()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, object_type="ledger_theft_loss",
        object_id=record.pk, detail={"notice": bool(record.notice_sent_on),
                                     "form_106": bool(record.form_106_filed_on)},
    )  # fmt: skip
    return record


@transaction.atomic
def transfer_record(
    *, actor: Actor, container_id: int, to_registration_id: int, to_storage_id: int, reason: str
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move a container to other storage, at this or another registered location: an entry at
    each end, so each location's stock line and the container's history show the move."""
    actor.require(Permission.LEDGER_RECEIVE)
    container = lock_container(actor, container_id)
    target = Registration.objects.filter(pk=to_registration_id, clinic_id=actor.clinic_id).first()
    storage = StorageLocation.objects.filter(
        pk=to_storage_id, clinic_id=actor.clinic_id, registration=target
    ).first()
    if target is None or storage is None:
        raise Refused("Choose storage at the receiving location.", field="to_storage_id",
                      code="not_found")  # fmt: skip
    if storage.pk == container.storage_id:
        raise Refused("That is where it already is.", field="to_storage_id", code="same_place")
    if container.blocked or container.balance == 0:
        raise Refused("Only unblocked stock moves.", field="container_id", code="container_blocked")
    why = text(reason, "reason")
    amount = container.balance
    status = container.status
    out = append(
        actor, container, kind=EntryKind.TRANSFER_OUT, amount=amount, change=-amount, reason=why,
        detail={"to": target.dea_number, "to_storage": storage.name},
    )  # fmt: skip
    source, source_storage = container.registration.dea_number, container.storage.name
    container.registration = target
    container.storage = storage
    container.status = status
    container.save(update_fields=["registration", "storage", "status"])
    back_in = append(
        actor, container, kind=EntryKind.TRANSFER_IN, amount=amount, change=amount, reason=why,
        detail={"from": source, "from_storage": source_storage},
    )  # fmt: skip
    return out, back_in
