"""Fixtures of the session tests: a team of clinicians and a controllable session clock."""

from collections.abc import Iterator
from typing import Any

import pytest

from ketacare.treatment import clock


@pytest.fixture(autouse=True)
def session_clock() -> Iterator[Any]:
    """The session clock, back to real time after each test."""
    clock.reset()
    yield clock
    clock.reset()


@pytest.fixture
def team(world: Any) -> Any:
    from tests.treatment.factories import Team

    return Team.of(world.clinic_a, world.staff)
