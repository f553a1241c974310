"""The controlled-substance ledger's rules, without a database."""

import contextlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical import InvalidInput, ProtocolViolation
from ketacare.clinical import ledger as L
from ketacare.clinical.ledger import Disposition, DrawState, Quantity, Unit


def mg(value: str) -> Quantity:
    return L.quantity(value, Unit.MG)


def test_quantities_are_exact_decimals_with_a_unit():
    assert mg("12.5") + mg("0.25") == mg("12.75")
    assert str(mg("100.000")) == "100 mg"
    assert str(L.quantity("2", "device")) == "2 device"


@pytest.mark.parametrize("value", [0.1, True, None, [1]])
def test_floats_and_non_numbers_are_refused(value):
    with pytest.raises(InvalidInput):
        L.parse_amount(value)


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", "0.0001", "10000001"])
def test_bad_text_is_refused(value):
    with pytest.raises(InvalidInput):
        L.parse_amount(value)


def test_ints_and_decimals_parse():
    assert L.parse_amount(5) == Decimal("5.000")
    assert L.parse_amount(Decimal("1.5")) == Decimal("1.500")


def test_a_quantity_refuses_a_float_amount_and_infinity():
    with pytest.raises(InvalidInput):
        Quantity(1.0, Unit.MG)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Quantity(Decimal("Infinity"), Unit.MG)


def test_units_never_mix():
    with pytest.raises(InvalidInput, match="Units differ"):
        mg("1") + L.quantity("1", Unit.ML)
    with pytest.raises(InvalidInput):
        L.quantity("1", "gallon")


def test_a_device_is_counted_whole():
    with pytest.raises(InvalidInput, match="whole"):
        L.quantity("1.5", Unit.DEVICE)


def test_a_movement_that_would_leave_the_balance_below_zero_is_refused():
    assert L.after_movement(mg("10"), -mg("10")) == mg("0")
    with pytest.raises(ProtocolViolation) as refused:
        L.after_movement(mg("10"), -mg("10.001"))
    assert refused.value.code == "over_draw"


def test_zero_and_negative_quantities_are_refused_where_a_movement_needs_an_amount():
    with pytest.raises(ProtocolViolation) as refused:
        L.positive(mg("0"))
    assert refused.value.code == "not_positive"
    with pytest.raises(ProtocolViolation):
        L.positive(mg("-1"))


def test_an_expired_lot_is_refused_the_day_after_its_expiry():
    L.lot_usable(expires_on=date(2026, 3, 31), on=date(2026, 3, 31))
    with pytest.raises(ProtocolViolation) as refused:
        L.lot_usable(expires_on=date(2026, 3, 31), on=date(2026, 4, 1))
    assert refused.value.code == "expired"


def test_a_dose_in_mg_converts_exactly_into_the_products_unit():
    vial_ml = L.ProductFacts(Unit.ML, Decimal("50"))
    assert L.mg_to_unit(Decimal("35"), vial_ml) == L.quantity("0.7", Unit.ML)
    assert L.mg_to_unit(Decimal("35"), L.ProductFacts(Unit.MG, None)) == mg("35")
    device = L.ProductFacts(Unit.DEVICE, Decimal("28"))
    assert L.mg_to_unit(Decimal("56"), device) == L.quantity("2", Unit.DEVICE)
    assert L.unit_to_mg(L.quantity("2", Unit.DEVICE), device) == Decimal("56")
    assert L.unit_to_mg(mg("3"), L.ProductFacts(Unit.MG, None)) == Decimal("3.000")


@pytest.mark.parametrize(
    ("dose", "product"),
    [
        ("35", L.ProductFacts(Unit.ML, Decimal("15"))),  # 2.333... mL
        ("42", L.ProductFacts(Unit.DEVICE, Decimal("28"))),  # 1.5 devices
    ],
)
def test_an_inexact_conversion_is_refused_not_rounded(dose, product):
    with pytest.raises(ProtocolViolation) as refused:
        L.mg_to_unit(Decimal(dose), product)
    assert refused.value.code == "inexact_units"


def test_conversion_needs_the_products_strength_and_a_non_negative_dose():
    with pytest.raises(InvalidInput):
        L.mg_to_unit(Decimal("5"), L.ProductFacts(Unit.ML, None))
    with pytest.raises(InvalidInput):
        L.mg_to_unit(Decimal("-5"), L.ProductFacts(Unit.MG, None))
    with pytest.raises(InvalidInput):
        L.unit_to_mg(mg("1"), L.ProductFacts(Unit.ML, Decimal("10")))
    with pytest.raises(InvalidInput):
        L.unit_to_mg(L.quantity("1", Unit.ML), L.ProductFacts(Unit.ML, None))


def test_a_draw_closes_when_administered_wasted_and_returned_add_up_to_it():
    # given 50 mg drawn
    draw = DrawState.opened(mg("50"))
    # when 35 mg are given, 10 wasted and 5 returned
    draw = draw.dispose(Disposition.ADMINISTERED, mg("35"))
    assert not draw.closed and draw.remainder == mg("15")
    draw = draw.dispose(Disposition.WASTED, mg("10"))
    draw = draw.dispose(Disposition.RETURNED, mg("5"))
    # then every milligram is accounted for
    assert draw.closed and draw.accounted == mg("50")


def test_more_than_drawn_cannot_be_accounted_for():
    draw = DrawState.opened(mg("50")).dispose(Disposition.ADMINISTERED, mg("45"))
    with pytest.raises(ProtocolViolation) as refused:
        draw.dispose(Disposition.WASTED, mg("5.001"))
    assert refused.value.code == "more_than_drawn"
    with pytest.raises(InvalidInput):
        draw.dispose(Disposition.WASTED, L.quantity("1", Unit.ML))
    with pytest.raises(ProtocolViolation):
        DrawState.opened(mg("0"))


@given(
    drawn=st.integers(min_value=1, max_value=10_000),
    parts=st.lists(
        st.tuples(st.sampled_from(list(Disposition)), st.integers(min_value=1, max_value=5_000)),
        max_size=8,
    ),
)
def test_a_draw_never_accounts_for_more_than_was_drawn(drawn, parts):
    draw = DrawState.opened(L.quantity(Decimal(drawn) / 1000, Unit.MG))
    for kind, amount in parts:
        with contextlib.suppress(ProtocolViolation):
            draw = draw.dispose(kind, L.quantity(Decimal(amount) / 1000, Unit.MG))
        assert draw.accounted <= draw.drawn
        assert draw.administered + draw.wasted + draw.returned + draw.remainder == draw.drawn


def test_the_person_who_drew_cannot_witness_the_waste():
    L.witness_ok(drawn_by=1, witness=2)
    with pytest.raises(ProtocolViolation) as refused:
        L.witness_ok(drawn_by=1, witness=1)
    assert refused.value.code == "witness_drew"
    with pytest.raises(ProtocolViolation) as refused:
        L.witness_ok(drawn_by=1, witness=None)
    assert refused.value.code == "witness_required"


def test_shift_counts_need_two_different_people():
    L.two_people(first=1, second=2, what="count")
    with pytest.raises(ProtocolViolation) as refused:
        L.two_people(first=1, second=1, what="count")
    assert refused.value.code == "same_person"
    with pytest.raises(ProtocolViolation) as refused:
        L.two_people(first=1, second=None, what="count")
    assert refused.value.code == "second_person_required"


def test_destruction_needs_two_witnesses_other_than_the_recorder():
    L.destruction_witnesses_ok(recorded_by=1, witnesses=[2, 3])
    with pytest.raises(ProtocolViolation) as refused:
        L.destruction_witnesses_ok(recorded_by=1, witnesses=[2, 2])
    assert refused.value.code == "two_witnesses"
    with pytest.raises(ProtocolViolation) as refused:
        L.destruction_witnesses_ok(recorded_by=1, witnesses=[1, 2])
    assert refused.value.code == "witness_is_recorder"


def test_a_count_variance_is_counted_minus_expected():
    assert L.variance(expected=mg("100"), counted=mg("98.5")) == -mg("1.5")
    with pytest.raises(InvalidInput):
        L.variance(expected=mg("1"), counted=mg("-1"))


def test_an_adjustment_needs_a_reason_and_a_co_signature_by_someone_else():
    L.adjustment_ok(reason="spilled", recorded_by=1, cosigned_by=2)
    with pytest.raises(ProtocolViolation) as refused:
        L.adjustment_ok(reason=" ", recorded_by=1, cosigned_by=2)
    assert refused.value.code == "reason_required"
    with pytest.raises(ProtocolViolation):
        L.adjustment_ok(reason="spilled", recorded_by=1, cosigned_by=1)


def test_theft_notice_is_due_the_next_business_day_and_form_106_in_45_days():
    # given a loss discovered on Friday 2026-07-03, with Monday 2026-07-06 a holiday
    deadlines = L.theft_loss_deadlines(discovered_on=date(2026, 7, 3), holidays=[date(2026, 7, 6)])
    # then the notice is due Tuesday and the form 45 calendar days later (88 FR 40707)
    assert deadlines.notice_due == date(2026, 7, 7)
    assert deadlines.form_106_due == date(2026, 8, 17)


@pytest.mark.parametrize(
    ("done", "today", "state"),
    [
        (None, date(2026, 1, 5), "due"),
        (None, date(2026, 1, 6), "overdue"),
        (date(2026, 1, 5), date(2026, 1, 9), "done"),
        (date(2026, 1, 6), date(2026, 1, 9), "done_late"),
    ],
)
def test_deadline_states(done, today, state):
    assert L.deadline_state(due=date(2026, 1, 5), done_on=done, today=today) == state


def test_reconcile_finds_doses_without_entries_entries_without_sessions_and_mismatches():
    doses = [
        L.DoseFact(1, Decimal("35")),
        L.DoseFact(2, Decimal("56")),
        L.DoseFact(3, Decimal("40")),
    ]
    entries = [
        L.LedgerAdministrationFact(10, 1, Decimal("35")),
        L.LedgerAdministrationFact(11, 3, Decimal("39")),
        L.LedgerAdministrationFact(12, 99, Decimal("20")),
        L.LedgerAdministrationFact(13, None, Decimal("20")),
    ]
    result = L.reconcile(doses, entries)
    assert [d.session_id for d in result.doses_without_entry] == [2]
    assert [e.entry_id for e in result.entries_without_session] == [12, 13]
    assert result.mismatched == ((doses[2], Decimal("39")),)
    assert not result.ok
    assert L.reconcile(doses[:1], entries[:1]).ok


def test_a_registration_is_current_between_its_dates():
    assert L.is_current(valid_from=date(2026, 1, 1), valid_until=None, on=date(2030, 1, 1))
    assert not L.is_current(
        valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31), on=date(2027, 1, 1)
    )
    assert not L.is_current(valid_from=date(2026, 1, 2), valid_until=None, on=date(2026, 1, 1))
