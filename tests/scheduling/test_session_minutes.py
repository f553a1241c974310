"""Chair time is the core's (`timing.chair_minutes`): scheduling asks it, never sums its own."""

import pytest

from ketacare.clinical.protocols import load_protocols
from ketacare.clinical.timing import chair_minutes
from ketacare.scheduling.selectors import protocol_session_minutes, route_minimum_minutes


@pytest.mark.parametrize("protocol", load_protocols().values(), ids=lambda p: p.id)
def test_a_protocols_chair_time_is_the_cores(protocol):
    assert protocol_session_minutes(protocol) == chair_minutes(protocol)


def test_each_routes_minimum_is_its_longest_protocol_by_the_core():
    minimum = route_minimum_minutes()
    for protocol in load_protocols().values():
        assert minimum[protocol.route] >= chair_minutes(protocol)
    assert minimum["esketamine"] == max(
        chair_minutes(p) for p in load_protocols().values() if p.route == "esketamine"
    )
