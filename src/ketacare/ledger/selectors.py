"""Reads of the ledger: stock, a container's history, a session's draws, discrepancies, checks."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic
from ketacare.clinical import ledger as rules
from ketacare.kernel import clinic_time
from ketacare.ledger import chaining
from ketacare.ledger.models import (
    Container,
    ContainerStatus,
    Count,
    Discrepancy,
    Draw,
    EntryKind,
    LedgerEntry,
    Product,
    Registration,
    StockBalance,
    StorageLocation,
    TheftLoss,
)
from ketacare.ledger.sessions import session_source


def clinic_today(actor: Actor) -> date:
    """Today at the clinic."""
    return clinic_time.clinic_today(actor.clinic)


def period_bounds(clinic: Clinic, since: date, until: date) -> tuple[datetime, datetime]:
    """The clinic-local days from `since` through `until` as aware instants."""
    zone = clinic_time.clinic_zone(clinic)
    start = datetime.combine(since, time.min, tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def containers_in_stock(*, actor: Actor) -> QuerySet[Container]:
    """The clinic's containers still on the shelf, with product, lot and place."""
    return (
        Container.objects.filter(clinic_id=actor.clinic_id)
        .exclude(status=ContainerStatus.GONE)
        .select_related("product", "lot", "registration", "storage")
        .order_by("product__name", "lot__expires_on", "label")
    )


def drawable_containers(*, actor: Actor) -> list[Container]:
    """Containers a dose may be drawn from now: in stock, not blocked, not expired, not empty."""
    today = clinic_today(actor)
    return [
        c
        for c in containers_in_stock(actor=actor).filter(blocked=False, balance__gt=0)
        if c.lot.expires_on >= today
    ]


def container_get_for_actor(*, actor: Actor, container_id: int) -> Container:
    """One container of the actor's clinic (404 otherwise)."""
    container = (
        Container.objects.filter(pk=container_id, clinic_id=actor.clinic_id)
        .select_related("product", "lot", "registration", "storage")
        .first()
    )
    if container is None:
        raise Http404("Container not found.")
    return container


def entry_get_for_actor(*, actor: Actor, entry_id: int) -> LedgerEntry:
    """One ledger entry of the actor's clinic with its container and people (404 otherwise)."""
    entry: LedgerEntry | None = (
        LedgerEntry.objects.filter(pk=entry_id, clinic_id=actor.clinic_id)
        .select_related(
            "container__product", "container__lot", "actor", "witness", "patient", "corrects"
        )
        .first()
    )
    if entry is None:
        raise Http404("Entry not found.")
    return entry


# A container's page shows its latest entries; the reports and CSV carry every one.
ENTRIES_SHOWN = 200


def entries_of_container(*, container: Container, limit: int = ENTRIES_SHOWN) -> list[LedgerEntry]:
    """A container's latest entries, oldest of them first, with the people on them."""
    latest = (
        LedgerEntry.objects.filter(container=container)
        .select_related("actor", "witness", "second_witness", "patient", "corrects")
        .order_by("-seq")[:limit]
    )
    return list(reversed(latest))


def stock_balances(*, actor: Actor) -> list[StockBalance]:
    """The running balance of each product at each registered location."""
    return list(
        StockBalance.objects.filter(clinic_id=actor.clinic_id)
        .select_related("product", "registration")
        .order_by("registration__name", "product__name")
    )


def balance_of(*, container_id: int) -> Decimal:
    """A container's balance from its latest entry (the entries are the record)."""
    latest = (
        LedgerEntry.objects.filter(container_id=container_id)
        .order_by("-seq")
        .values_list("container_balance", flat=True)
        .first()
    )
    return latest if latest is not None else Decimal(0)


def draws_of_session(*, actor: Actor, session_id: int) -> list[Draw]:
    """A session's draws with their containers."""
    return list(
        Draw.objects.filter(clinic_id=actor.clinic_id, session_id=session_id)
        .select_related("container__product", "container__lot", "drawn_by")
        .order_by("drawn_at", "id")
    )


def open_draws(*, actor: Actor) -> list[Draw]:
    """Draws not yet fully accounted for."""
    return list(
        Draw.objects.filter(clinic_id=actor.clinic_id, closed_at__isnull=True)
        .select_related("container__product", "container__lot", "drawn_by", "patient")
        .order_by("drawn_at")
    )


def draw_get_for_actor(*, actor: Actor, draw_id: int) -> Draw:
    """One draw of the actor's clinic (404 otherwise)."""
    draw = (
        Draw.objects.filter(pk=draw_id, clinic_id=actor.clinic_id)
        .select_related("container__product", "container__lot", "drawn_by", "patient")
        .first()
    )
    if draw is None:
        raise Http404("Draw not found.")
    return draw


def discrepancies(*, actor: Actor, open_only: bool = False) -> list[Discrepancy]:
    """The clinic's discrepancies, newest first."""
    rows = Discrepancy.objects.filter(clinic_id=actor.clinic_id).select_related(
        "container__product", "opened_by", "resolved_by"
    )
    if open_only:
        rows = rows.filter(resolved_at__isnull=True)
    return list(rows)


def discrepancy_get_for_actor(*, actor: Actor, discrepancy_id: int) -> Discrepancy:
    """One discrepancy of the actor's clinic (404 otherwise)."""
    found = (
        Discrepancy.objects.filter(pk=discrepancy_id, clinic_id=actor.clinic_id)
        .select_related("container__product", "container__lot", "opened_by", "resolved_by")
        .first()
    )
    if found is None:
        raise Http404("Discrepancy not found.")
    return found


def count_get_for_actor(*, actor: Actor, count_id: int) -> Count:
    """One count of the actor's clinic (404 otherwise)."""
    count = (
        Count.objects.filter(pk=count_id, clinic_id=actor.clinic_id)
        .select_related("registration", "counted_by", "second_counter")
        .first()
    )
    if count is None:
        raise Http404("Count not found.")
    return count


def setup_of(*, actor: Actor) -> tuple[list[Registration], list[StorageLocation], list[Product]]:
    """The clinic's registrations, storage places and products."""
    clinic = actor.clinic_id
    return (
        list(Registration.objects.filter(clinic_id=clinic)),
        list(StorageLocation.objects.filter(clinic_id=clinic).select_related("registration")),
        list(Product.objects.filter(clinic_id=clinic)),
    )


def theft_loss_reports(*, actor: Actor) -> list[TheftLoss]:
    """The clinic's theft and loss reports with their entries."""
    return list(
        TheftLoss.objects.filter(clinic_id=actor.clinic_id).select_related(
            "entry__container__product", "entry__container__lot", "recorded_by"
        )
    )


# --- checks: reconcile and verify ----------------------------------------------------------------


def reconcile_clinic(*, clinic_id: int) -> rules.Reconciliation:
    """Every dose given in the clinic's sessions against the ledger's administrations, both ways."""
    sessions = session_source().dosed_sessions(clinic_id=clinic_id, since=None, until=None)
    doses = [rules.DoseFact(s.session_id, s.delivered_mg or Decimal(0)) for s in sessions]
    rows = LedgerEntry.objects.filter(clinic_id=clinic_id, kind=EntryKind.ADMINISTRATION)
    entries = [
        rules.LedgerAdministrationFact(pk, session_id, dose_mg or Decimal(0))
        for pk, session_id, dose_mg in rows.values_list("pk", "session_id", "dose_mg")
    ]
    return rules.reconcile(doses, entries)


def ledger_verify() -> chaining.LedgerVerifyResult:
    """Recompute the ledger's chains (with the shared mechanism and its signed checkpoints)."""
    return chaining.verify()
