"""Fixtures of the REMS tests: a team of clinicians and the session clock reset."""

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
def team(world: Any) -> Any:
    from tests.treatment.factories import Team

    return Team.of(world.clinic_a, world.staff)
