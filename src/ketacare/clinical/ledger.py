"""Controlled-substance ledger rules: exact quantities, balances, draws, counts, deadlines.

Pure rules over frozen facts; the ledger app gathers the facts, asks here once, then writes.
Sources: 21 CFR 1304.11 (inventories), 1304.21-22 (records), 1301.76(b) with 88 FR 40707
(22 June 2023: theft or significant loss noticed within one business day of discovery, DEA
Form 106 within 45 calendar days), 1317.95 and DEA Form 41 (destruction, two witnesses).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from ketacare.clinical.errors import InvalidInput, ProtocolViolation

# A quantity is kept to a thousandth of its unit (0.001 mg, 0.001 mL): finer than any syringe or
# pump measures, so no real amount is rounded; anything finer is refused rather than rounded.
QUANTITY_PLACES = 3
QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)
# The largest single quantity accepted: a typing guard, far above any clinic's stock of one line.
QUANTITY_MAX = Decimal("10000000")

# 88 FR 40707 (2023), 21 CFR 1301.76(b): Form 106 within 45 calendar days after discovery.
FORM_106_DAYS = 45
# 21 CFR 1301.76(b): written notice to the DEA Field Division within one business day.
THEFT_NOTICE_BUSINESS_DAYS = 1
# 21 CFR 1304.11(c): an inventory at least every two years after the initial one.
BIENNIAL_INVENTORY_DAYS = 2 * 365


class Unit(StrEnum):
    """The unit a product is counted in; every quantity of the product is in it."""

    MG = "mg"
    ML = "mL"
    DEVICE = "device"
    LOZENGE = "lozenge"


# Units that count whole items: a device or lozenge is never split.
WHOLE_UNITS = frozenset({Unit.DEVICE, Unit.LOZENGE})


@dataclass(frozen=True, order=True)
class Quantity:
    """An exact amount in one unit; arithmetic across units is refused."""

    amount: Decimal
    unit: Unit

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise InvalidInput("A quantity must be an exact decimal.", field="quantity")
        if not self.amount.is_finite():
            raise InvalidInput("A quantity must be a finite number.", field="quantity")

    def _same_unit(self, other: Quantity) -> None:
        if self.unit != other.unit:
            raise InvalidInput(
                f"Units differ: {self.unit} and {other.unit}; a product is counted in one unit.",
                field="unit",
            )

    def __add__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(self.amount + other.amount, self.unit)

    def __sub__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(self.amount - other.amount, self.unit)

    def __neg__(self) -> Quantity:
        return Quantity(-self.amount, self.unit)

    @property
    def is_zero(self) -> bool:
        """Whether the amount is exactly nothing."""
        return self.amount == 0

    def __str__(self) -> str:
        return f"{format_amount(self.amount)} {self.unit}"


def format_amount(amount: Decimal) -> str:
    """An amount without trailing zeros or exponent: 12.500 → 12.5, 100.000 → 100."""
    text = format(amount.quantize(QUANTUM), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def zero(unit: Unit) -> Quantity:
    """Nothing, in a unit."""
    return Quantity(Decimal(0), unit)


def parse_amount(value: object, *, field: str = "quantity") -> Decimal:
    """An exact decimal from text, int or Decimal; floats and finer than 0.001 are refused."""
    if isinstance(value, (bool, float)):
        raise InvalidInput("Enter the quantity as an exact decimal, not a float.", field=field)
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(f"'{value}' is not a number.", field=field) from None
    else:
        raise InvalidInput("Enter the quantity as a number.", field=field)
    if not amount.is_finite():
        raise InvalidInput("Enter a finite number.", field=field)
    if amount != amount.quantize(QUANTUM, rounding="ROUND_DOWN"):
        raise InvalidInput(
            f"Quantities are kept to {QUANTITY_PLACES} decimal places; nothing is rounded.",
            field=field,
        )
    if abs(amount) > QUANTITY_MAX:
        raise InvalidInput(f"{amount} is beyond any plausible quantity.", field=field)
    return amount.quantize(QUANTUM)


def quantity(value: object, unit: Unit | str, *, field: str = "quantity") -> Quantity:
    """A quantity from a value and a unit name, validated."""
    try:
        unit = Unit(unit)
    except ValueError:
        raise InvalidInput(f"Unknown unit '{unit}'.", field="unit") from None
    amount = parse_amount(value, field=field)
    if unit in WHOLE_UNITS and amount != amount.to_integral_value():
        raise InvalidInput(f"A {unit} is counted whole.", field=field)
    return Quantity(amount, unit)


def positive(q: Quantity, *, field: str = "quantity") -> Quantity:
    """The quantity itself when above zero; else refused."""
    if q.amount <= 0:
        raise ProtocolViolation("not_positive", f"The {field} must be more than zero.")
    return q


def after_movement(balance: Quantity, change: Quantity) -> Quantity:
    """The balance after a change (negative for stock leaving); never below zero."""
    result = balance + change
    if result.amount < 0:
        raise ProtocolViolation(
            "over_draw",
            f"Only {balance} is on hand; {-change} cannot leave it (the balance would be "
            f"{result}).",
        )
    return result


def lot_usable(*, expires_on: date, on: date) -> None:
    """Refuse stock from a lot past its expiry date (usable through the date itself)."""
    if on > expires_on:
        raise ProtocolViolation(
            "expired", f"The lot expired on {expires_on.isoformat()}; it may not be used."
        )


@dataclass(frozen=True)
class ProductFacts:
    """What converts a dose in mg into the unit a product is counted in."""

    unit: Unit
    # mg in one mL (solutions) or in one device/lozenge; None when counted in mg.
    mg_per_unit: Decimal | None


def mg_to_unit(dose_mg: Decimal, product: ProductFacts) -> Quantity:
    """A dose in mg in the product's unit, exactly; an inexact conversion is refused."""
    if dose_mg < 0:
        raise InvalidInput("A dose cannot be negative.", field="dose_mg")
    if product.unit == Unit.MG:
        return quantity(dose_mg, Unit.MG, field="dose_mg")
    if product.mg_per_unit is None or product.mg_per_unit <= 0:
        raise InvalidInput(
            f"The product's mg per {product.unit} is not recorded.", field="mg_per_unit"
        )
    amount = dose_mg / product.mg_per_unit
    if amount != amount.quantize(QUANTUM, rounding="ROUND_DOWN"):
        raise ProtocolViolation(
            "inexact_units",
            f"{format_amount(dose_mg)} mg is not a whole number of thousandths of a "
            f"{product.unit} at {format_amount(product.mg_per_unit)} mg each.",
        )
    if product.unit in WHOLE_UNITS and amount != amount.to_integral_value():
        raise ProtocolViolation(
            "inexact_units",
            f"{format_amount(dose_mg)} mg is not a whole number of {product.unit}s.",
        )
    return Quantity(amount.quantize(QUANTUM), product.unit)


def unit_to_mg(q: Quantity, product: ProductFacts) -> Decimal:
    """A quantity of a product in mg (for reports)."""
    if q.unit != product.unit:
        raise InvalidInput("Units differ from the product's unit.", field="unit")
    if product.unit == Unit.MG:
        return q.amount
    if product.mg_per_unit is None:
        raise InvalidInput("The product's mg per unit is not recorded.", field="mg_per_unit")
    return q.amount * product.mg_per_unit


def home_supply(product: ProductFacts, *, strength_mg: Decimal, units: int) -> Quantity:
    """What dispensing `units` of a home prescription of `strength_mg` each takes from stock.

    Only a product counted in whole lozenges of exactly the prescribed strength may fill it: a
    solution, a device or another strength is refused, so the ledger and the prescription can
    never disagree about what went home.
    """
    if units <= 0:
        raise InvalidInput("Dispense at least one unit.", field="units")
    if product.unit != Unit.LOZENGE:
        raise ProtocolViolation(
            "not_a_home_product",
            f"A home prescription is filled in lozenges; this product is counted in "
            f"{product.unit}.",
        )
    if product.mg_per_unit is None or product.mg_per_unit != strength_mg:
        raise ProtocolViolation(
            "strength_differs",
            f"The prescription is for {format_amount(strength_mg)} mg lozenges; this product "
            f"holds {format_amount(product.mg_per_unit or Decimal(0))} mg each.",
        )
    return Quantity(Decimal(units).quantize(QUANTUM), Unit.LOZENGE)


class Disposition(StrEnum):
    """Where a drawn amount went."""

    ADMINISTERED = "administered"
    WASTED = "wasted"
    RETURNED = "returned"


@dataclass(frozen=True)
class DrawState:
    """A draw and what has become of it: drawn = administered + wasted + returned once closed."""

    drawn: Quantity
    administered: Quantity
    wasted: Quantity
    returned: Quantity

    @classmethod
    def opened(cls, drawn: Quantity) -> DrawState:
        """A new draw with nothing yet accounted for."""
        positive(drawn, field="draw")
        none = zero(drawn.unit)
        return cls(drawn, none, none, none)

    @property
    def accounted(self) -> Quantity:
        """Administered, wasted and returned together."""
        return self.administered + self.wasted + self.returned

    @property
    def remainder(self) -> Quantity:
        """What is drawn but not yet accounted for."""
        return self.drawn - self.accounted

    @property
    def closed(self) -> bool:
        """Every milligram of the draw is accounted for."""
        return self.remainder.is_zero

    def dispose(self, kind: Disposition, amount: Quantity) -> DrawState:
        """The draw after part of it is administered, wasted or returned; never past the draw."""
        positive(amount, field=str(kind))
        if amount.unit != self.drawn.unit:
            raise InvalidInput(
                f"The draw is in {self.drawn.unit}; {amount} is in another unit.", field="unit"
            )
        if amount > self.remainder:
            raise ProtocolViolation(
                "more_than_drawn",
                f"Only {self.remainder} of the draw is unaccounted for; {amount} cannot be {kind}.",
            )
        if kind == Disposition.ADMINISTERED:
            return DrawState(self.drawn, self.administered + amount, self.wasted, self.returned)
        if kind == Disposition.WASTED:
            return DrawState(self.drawn, self.administered, self.wasted + amount, self.returned)
        return DrawState(self.drawn, self.administered, self.wasted, self.returned + amount)


def witness_ok(*, drawn_by: int, witness: int | None) -> None:
    """A waste is witnessed by a second person, never the one who drew (policy default)."""
    if witness is None:
        raise ProtocolViolation("witness_required", "A second person must witness the waste.")
    if witness == drawn_by:
        raise ProtocolViolation(
            "witness_drew", "The person who drew the dose cannot witness its waste."
        )


def two_people(*, first: int, second: int | None, what: str) -> None:
    """A step done by two different people (shift counts, adjustments)."""
    if second is None:
        raise ProtocolViolation("second_person_required", f"A second person must {what}.")
    if second == first:
        raise ProtocolViolation("same_person", f"A different person must {what}.")


def destruction_witnesses_ok(*, recorded_by: int, witnesses: Sequence[int]) -> None:
    """Destruction on site has two witnesses (DEA Form 41), neither of them the recorder."""
    if len(witnesses) != 2 or witnesses[0] == witnesses[1]:
        raise ProtocolViolation(
            "two_witnesses", "Destruction needs two different witnesses (DEA Form 41)."
        )
    if recorded_by in witnesses:
        raise ProtocolViolation(
            "witness_is_recorder", "The person recording the destruction cannot also witness it."
        )


def variance(*, expected: Quantity, counted: Quantity) -> Quantity:
    """Counted minus expected: negative means stock is missing."""
    if counted.amount < 0:
        raise InvalidInput("A count cannot be negative.", field="counted")
    return counted - expected


def adjustment_ok(*, reason: str, recorded_by: int, cosigned_by: int | None) -> None:
    """An adjustment after a count names its reason and is co-signed by someone else."""
    if not reason.strip():
        raise ProtocolViolation("reason_required", "An adjustment needs a reason.")
    two_people(first=recorded_by, second=cosigned_by, what="co-sign the adjustment")


def next_business_day(day: date, holidays: Collection[date] = ()) -> date:
    """The first weekday after `day` that is not a holiday."""
    candidate = day + timedelta(days=1)
    while candidate.weekday() >= 5 or candidate in holidays:
        candidate += timedelta(days=1)
    return candidate


@dataclass(frozen=True)
class TheftLossDeadlines:
    """When the written notice and the DEA Form 106 are due after a theft or loss is discovered."""

    notice_due: date
    form_106_due: date


def theft_loss_deadlines(
    *, discovered_on: date, holidays: Collection[date] = ()
) -> TheftLossDeadlines:
    """Notice within one business day of discovery; Form 106 within 45 calendar days."""
    notice = discovered_on
    for _ in range(THEFT_NOTICE_BUSINESS_DAYS):
        notice = next_business_day(notice, holidays)
    return TheftLossDeadlines(
        notice_due=notice, form_106_due=discovered_on + timedelta(days=FORM_106_DAYS)
    )


def deadline_state(*, due: date, done_on: date | None, today: date) -> str:
    """`done`, `done_late`, `due` or `overdue` for a dated obligation."""
    if done_on is not None:
        return "done" if done_on <= due else "done_late"
    return "due" if today <= due else "overdue"


# --- the hash-chained record, verified -----------------------------------------------------------


@dataclass(frozen=True)
class DoseFact:
    """An administered dose in a session, as the treatment record holds it."""

    session_id: int
    dose_mg: Decimal


@dataclass(frozen=True)
class LedgerAdministrationFact:
    """A ledger administration entry and the session it names."""

    entry_id: int
    session_id: int | None
    dose_mg: Decimal


@dataclass(frozen=True)
class Reconciliation:
    """Doses without a ledger entry, ledger administrations without a session, and mismatches."""

    doses_without_entry: tuple[DoseFact, ...]
    entries_without_session: tuple[LedgerAdministrationFact, ...]
    mismatched: tuple[tuple[DoseFact, Decimal], ...]

    @property
    def ok(self) -> bool:
        """Everything administered is in the ledger and the reverse, to the milligram."""
        return not (self.doses_without_entry or self.entries_without_session or self.mismatched)


def reconcile(
    doses: Iterable[DoseFact], entries: Iterable[LedgerAdministrationFact]
) -> Reconciliation:
    """Match every dose given in a session with the ledger's administrations of that session."""
    by_session: dict[int, Decimal] = {}
    orphans: list[LedgerAdministrationFact] = []
    dose_list = list(doses)
    sessions = {d.session_id for d in dose_list}
    for entry in entries:
        if entry.session_id is None or entry.session_id not in sessions:
            orphans.append(entry)
            continue
        by_session[entry.session_id] = by_session.get(entry.session_id, Decimal(0)) + entry.dose_mg
    missing: list[DoseFact] = []
    mismatched: list[tuple[DoseFact, Decimal]] = []
    for dose in dose_list:
        recorded = by_session.get(dose.session_id)
        if recorded is None:
            missing.append(dose)
        elif recorded != dose.dose_mg:
            mismatched.append((dose, recorded))
    return Reconciliation(tuple(missing), tuple(orphans), tuple(mismatched))


def is_current(*, valid_from: date, valid_until: date | None, on: date) -> bool:
    """Whether a dated registration or certification is in force on a day."""
    return valid_from <= on and (valid_until is None or on <= valid_until)
