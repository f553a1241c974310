"""Fixtures of the session tests: a team of clinicians (the clinic clock: tests/conftest.py)."""

from typing import Any

import pytest


@pytest.fixture
def team(world: Any) -> Any:
    from tests.treatment.factories import Team

    return Team.of(world.clinic_a, world.staff)
