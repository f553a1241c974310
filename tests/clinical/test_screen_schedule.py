"""The recovery screens' schedule: at intake for everyone, monthly in an at-home programme, and
on a protocol's rhythm where the schedule names it; an unknown instrument refuses to load."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical._data import DataError, parse_document
from ketacare.clinical.screens import (
    AT_HOME,
    INTAKE,
    PROTOCOL,
    ScreenAnchor,
    load_screen_schedule,
    parse_screen_schedule,
    screens_due,
)

START = date(2026, 3, 2)

SCHEDULE_TEXT = """
window_days = 7
policy = true
source = ["ketacare_reference"]
[intake]
instruments = ["audit_c", "dast10"]
source = ["ketacare_reference"]
[at_home]
instruments = ["audit_c", "craving_nrs", "ketamine_bladder_checklist"]
every_days = 30
source = ["joyous"]
[protocols.iv_induction_6x]
instruments = ["craving_nrs"]
every_days = 14
source = ["ketacare_reference"]
"""


def _schedule(text: str = SCHEDULE_TEXT):
    return parse_screen_schedule(parse_document(text, "screens.toml"))


def _due(anchors, today):
    return [(s.key, s.instruments) for s in screens_due(schedule=_schedule(), anchors=anchors,
                                                       today=today)]  # fmt: skip


def test_the_shipped_schedule_asks_bladder_and_substance_screens_monthly_at_home():
    schedule = load_screen_schedule()
    assert schedule.at_home.every_days == 30  # reference §7 (Joyous), policy default
    assert {"audit_c", "ketamine_bladder_checklist"} <= set(schedule.at_home.instruments)
    assert "audit_c" in schedule.intake.instruments
    assert schedule.at_home.citation.policy


@pytest.mark.parametrize(
    ("days_after", "expected"),
    [
        (-1, []),  # not registered yet
        (0, [("screen:intake", ("audit_c", "dast10"))]),
        (6, [("screen:intake", ("audit_c", "dast10"))]),
        (7, []),  # the week's window has closed
        (400, []),  # intake is asked once
    ],
)
def test_every_patient_is_screened_at_intake_within_the_window(days_after, expected):
    anchor = ScreenAnchor(INTAKE, 5, START)
    assert _due([anchor], START + timedelta(days=days_after)) == expected


@pytest.mark.parametrize(
    ("days_after", "expected_key"),
    [
        (0, None),  # the first month's screen is a month in (intake covers the start)
        (29, None),
        (30, "screen:athome:9:every:30d:1"),
        (36, "screen:athome:9:every:30d:1"),
        (37, None),
        (60, "screen:athome:9:every:30d:2"),
        (95, "screen:athome:9:every:30d:3"),
    ],
)
def test_an_at_home_patient_is_screened_every_month(days_after, expected_key):
    due = _due([ScreenAnchor(AT_HOME, 9, START)], START + timedelta(days=days_after))
    if expected_key is None:
        assert due == []
    else:
        assert due == [(expected_key, ("audit_c", "craving_nrs", "ketamine_bladder_checklist"))]


def test_a_protocol_that_names_screens_asks_them_on_its_rhythm():
    anchors = [ScreenAnchor(PROTOCOL, 3, START, protocol_id="iv_induction_6x")]
    assert _due(anchors, START + timedelta(days=14)) == [
        ("screen:course:3:every:14d:1", ("craving_nrs",))
    ]


def test_a_protocol_the_schedule_does_not_name_asks_nothing():
    anchors = [ScreenAnchor(PROTOCOL, 3, START, protocol_id="esketamine_trd")]
    assert _due(anchors, START + timedelta(days=14)) == []


def test_a_screen_already_asked_at_intake_is_not_asked_again_the_same_week():
    # given a patient registered and enrolled at home, both 30 days ago... and again today
    today = START + timedelta(days=30)
    anchors = [ScreenAnchor(AT_HOME, 9, START), ScreenAnchor(INTAKE, 5, today)]
    # then intake asks AUDIT-C and DAST-10 and the monthly screen asks only the rest
    assert _due(anchors, today) == [
        ("screen:intake", ("audit_c", "dast10")),
        ("screen:athome:9:every:30d:1", ("craving_nrs", "ketamine_bladder_checklist")),
    ]


def test_an_unknown_anchor_is_refused():
    with pytest.raises(InvalidInput) as error:
        screens_due(schedule=_schedule(), anchors=[ScreenAnchor("weekly", 1, START)], today=START)
    assert error.value.field == "kind"


def test_an_unknown_instrument_in_the_schedule_refuses_to_load():
    text = SCHEDULE_TEXT.replace('["audit_c", "dast10"]', '["audit_c", "dast_11"]')
    with pytest.raises(DataError, match="dast_11"):
        _schedule(text)


def test_an_unknown_protocol_in_the_schedule_refuses_to_load():
    with pytest.raises(DataError, match="no_such_protocol"):
        _schedule(SCHEDULE_TEXT.replace("iv_induction_6x", "no_such_protocol"))


def test_a_screen_named_twice_in_one_rule_refuses_to_load():
    with pytest.raises(DataError, match="twice"):
        _schedule(SCHEDULE_TEXT.replace('["craving_nrs"]', '["craving_nrs", "craving_nrs"]'))


def test_a_misspelt_key_refuses_to_load():
    with pytest.raises(DataError, match="every_day"):
        _schedule(SCHEDULE_TEXT.replace("every_days = 14", "every_day = 14"))
