"""Fixtures of the recovery tests: actors of clinic A by role."""

from typing import Any

import pytest


@pytest.fixture
def actors(world: Any) -> dict[str, Any]:
    from tests.ledger.factories import as_actor

    return {role: as_actor(user, world.clinic_a, role) for role, user in world.staff.items()}
