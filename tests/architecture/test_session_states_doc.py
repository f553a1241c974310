"""The session state diagram in the docs is drawn from the state table, and checked."""

import pytest
from django.core.management import CommandError, call_command

from ketacare.treatment.state_diagram import render_state_diagram
from ketacare.treatment.states import TRANSITIONS


def test_every_transition_of_the_state_table_is_an_arrow_of_the_diagram():
    text = render_state_diagram()
    for status, targets in TRANSITIONS.items():
        for target in targets:
            assert f"    {status} --> {target}\n" in text


def test_a_diagram_that_disagrees_with_the_state_table_fails_the_check(tmp_path):
    stale = tmp_path / "session-states.md"
    stale.write_text(render_state_diagram().replace("dosing --> observation", "dosing --> x"))
    with pytest.raises(CommandError, match="out of date"):
        call_command("session_states_doc", "--check", "--output", str(stale))
    call_command("session_states_doc", "--output", str(stale))
    call_command("session_states_doc", "--check", "--output", str(stale))
