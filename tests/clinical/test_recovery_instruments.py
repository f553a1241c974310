"""The recovery screens: AUDIT-C, AUDIT, DAST-10, craving NRS and the two checklists."""

from __future__ import annotations

import pytest

from ketacare.clinical import InvalidInput
from ketacare.clinical.instruments import CHECKLIST_BAND, get_instrument, score

RECOVERY = (
    "audit_c", "audit", "dast10", "craving_nrs", "ketamine_bladder_checklist",
    "ketamine_withdrawal_checklist",
)  # fmt: skip


# Reference cases: (instrument, answers, total, band) with the source of the band in a comment.
CASES = [
    ("audit_c", [0, 0, 0], 0, "below cut-point"),  # Bush 1998
    ("audit_c", [1, 1, 1], 3, "positive for women only (3)"),
    ("audit_c", [2, 1, 1], 4, "positive"),  # Bush 1998: 4 or more in men
    ("audit", [1, 1, 1, 1, 1, 1, 1, 0, 0, 0], 7, "zone I (low risk)"),  # Babor 2001 zones
    ("audit", [1, 1, 1, 1, 1, 1, 1, 1, 0, 0], 8, "zone II (hazardous)"),
    ("audit", [4, 4, 4, 4, 0, 0, 0, 0, 0, 0], 16, "zone III (harmful)"),
    ("audit", [4, 4, 4, 4, 4, 4, 4, 4, 4, 4], 40, "zone IV (possible dependence)"),
    ("audit", [0, 0, 0, 0, 0, 0, 0, 0, 2, 4], 6, "zone I (low risk)"),
    ("dast10", [0] * 10, 0, "no problems reported"),  # Skinner 1982
    ("dast10", [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1, "low"),
    ("dast10", [1, 1, 1, 0, 0, 0, 0, 0, 0, 0], 3, "moderate"),  # item 3 "No" scores 1
    ("dast10", [1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 6, "substantial"),
    ("dast10", [1] * 10, 10, "severe"),
    ("craving_nrs", [7], 7, "rating (no validated cut-points)"),
    ("ketamine_bladder_checklist", [1, 1, 0, 0, 1, 0, 0], 3, CHECKLIST_BAND),
    ("ketamine_withdrawal_checklist", [True, False, True, True, False, False, True], 4,
     CHECKLIST_BAND),
]  # fmt: skip


@pytest.mark.parametrize(("instrument_id", "answers", "total", "band"), CASES)
def test_recovery_screens_score_their_published_bands(
    instrument_id: str, answers: list[int], total: int, band: str
) -> None:
    result = score(instrument_id, answers)
    assert (result.total, result.band) == (total, band)


def test_dast10_item_three_is_reverse_scored() -> None:
    item = get_instrument("dast10").items[2]
    assert [(o.value, o.label) for o in item.options] == [(0, "Yes"), (1, "No")]


@pytest.mark.parametrize("answer", [1, 3])
def test_audit_items_nine_and_ten_accept_only_zero_two_or_four(answer: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        score("audit", [0] * 8 + [answer, 0])
    assert raised.value.field == "audit_q9"
    assert "not one of [0, 2, 4]" in str(raised.value)


def test_blood_in_urine_flags_the_bladder_checklist() -> None:
    assert score("ketamine_bladder_checklist", [0] * 6 + [1]).alerts == ["haematuria"]
    assert score("ketamine_bladder_checklist", [1] * 6 + [0]).alerts == []


def test_a_checklist_takes_only_yes_or_no() -> None:
    with pytest.raises(InvalidInput):
        score("ketamine_withdrawal_checklist", [2, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("instrument_id", RECOVERY)
def test_every_recovery_screen_cites_its_licence(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    assert instrument.licence.note
    assert instrument.citation.source_ids
    if not instrument.licence.wording_reproduced:
        assert all(item.text is None for item in instrument.items)


def test_checklists_are_recorded_as_checklists_not_scores() -> None:
    for instrument_id in ("ketamine_bladder_checklist", "ketamine_withdrawal_checklist"):
        instrument = get_instrument(instrument_id)
        assert instrument.scoring == "checklist"
        assert [band.name for band in instrument.bands] == [CHECKLIST_BAND]
