"""Medicines given in a session are read through the medicine vocabulary, never guessed."""

from decimal import Decimal

import pytest

from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.given import ROUTES, check_dose, read_given


@pytest.mark.parametrize(
    ("entry", "ingredient"),
    [
        ("ondansetron", "ondansetron"),
        ("Zofran 4 mg", "ondansetron"),
        ("midazolam", "midazolam"),
        ("labetalol", "labetalol"),
        ("Trandate", "labetalol"),
        ("  Lorazepam  ", "lorazepam"),
    ],
)
def test_a_generic_or_brand_name_resolves_to_its_ingredient(entry, ingredient):
    given = read_given(entry)
    assert given.understood and not given.needs_review
    assert given.ingredients == (ingredient,)


def test_a_name_the_vocabulary_does_not_hold_is_kept_as_typed_and_needs_review():
    given = read_given("Dr Smith's calming drops")
    assert given.needs_review
    assert given.ingredients == ()
    assert given.entry == "Dr Smith's calming drops"


def test_an_empty_name_is_refused():
    with pytest.raises(InvalidInput) as refused:
        read_given("   ")
    assert refused.value.field == "medicine"


@pytest.mark.parametrize(
    ("dose", "unit", "route", "field"),
    [
        (None, "mg", "iv", "dose"),
        (Decimal("0"), "mg", "iv", "dose"),
        (Decimal("-1"), "mg", "iv", "dose"),
        (Decimal("NaN"), "mg", "iv", "dose"),
        (Decimal("500000"), "mg", "iv", "dose"),
        (Decimal("4"), "tablets", "iv", "unit"),
        (Decimal("4"), "mg", "rectal", "route"),
    ],
)
def test_a_dose_unit_or_route_out_of_bounds_is_refused_naming_the_field(dose, unit, route, field):
    with pytest.raises(InvalidInput) as refused:
        check_dose(dose, unit, route)
    assert refused.value.field == field


def test_a_dose_with_a_known_unit_and_route_is_accepted():
    assert check_dose(Decimal("4"), "mg", "iv") == Decimal("4")
    assert "iv" in ROUTES and "po" in ROUTES
