"""The home supply's rule in the ledger core: whole lozenges of exactly the prescribed strength."""

from decimal import Decimal

import pytest

from ketacare.clinical.errors import InvalidInput, ProtocolViolation
from ketacare.clinical.ledger import ProductFacts, Quantity, Unit, home_supply


def test_four_50_mg_lozenges_fill_a_prescription_of_four() -> None:
    supply = home_supply(
        ProductFacts(Unit.LOZENGE, Decimal("50")), strength_mg=Decimal("50"), units=4
    )
    assert supply == Quantity(Decimal("4.000"), Unit.LOZENGE)


@pytest.mark.parametrize(
    ("product", "code"),
    [
        (ProductFacts(Unit.MG, None), "not_a_home_product"),
        (ProductFacts(Unit.DEVICE, Decimal("28")), "not_a_home_product"),
        (ProductFacts(Unit.LOZENGE, Decimal("100")), "strength_differs"),
        (ProductFacts(Unit.LOZENGE, None), "strength_differs"),
    ],
)
def test_another_form_or_strength_is_refused(product: ProductFacts, code: str) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        home_supply(product, strength_mg=Decimal("50"), units=4)
    assert caught.value.code == code


def test_no_units_is_invalid() -> None:
    with pytest.raises(InvalidInput) as caught:
        home_supply(ProductFacts(Unit.LOZENGE, Decimal("50")), strength_mg=Decimal("50"), units=0)
    assert caught.value.field == "units"
