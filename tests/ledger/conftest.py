"""Fixtures of the ledger tests: clinic A's ledger set up, and the session clock reset."""

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def session_clock() -> Iterator[Any]:
    from ketacare.kernel import clock

    clock.reset()
    yield clock
    clock.reset()


@pytest.fixture
def stock(world: Any) -> Any:
    from tests.ledger.factories import stock_for

    return stock_for(world.clinic_a, world.staff)


@pytest.fixture
def session(world: Any) -> Any:
    from tests.treatment.factories import session_row

    return session_row(world.clinic_a, world.patient_a, world.staff)
