"""The hazard log: each hazard has controls, each control tests that exist; the doc is current."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from ketacare.clinical import DataError
from ketacare.clinical._data import parse_document
from ketacare.clinical.hazard_doc import DEFAULT_OUTPUT, main, missing_tests, render
from ketacare.clinical.hazards import REQUIRED, core_refs, load_hazards, parse_hazards

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "hazard-log.md"
NAME = "hazards.toml"
TEXT = resources.files("ketacare.clinical").joinpath("data", NAME).read_text(encoding="utf-8")


CHECK_IN_TESTS = (
    'tests = ["tests/treatment/test_services.py::'
    'test_check_in_refuses_another_clinics_appointment"]'
)


def parsed(old: str, new: str) -> object:
    assert old in TEXT, old
    return parse_hazards(parse_document(TEXT.replace(old, new, 1), NAME), core_refs())


def test_the_log_covers_every_required_hazard_with_controls_and_tests() -> None:
    log = load_hazards()
    assert [hazard.id for hazard in log.hazards] == list(REQUIRED)
    for hazard in log.hazards:
        assert hazard.controls and hazard.causes
        assert all(control.tests for control in hazard.controls)
        assert hazard.after.risk <= hazard.before.risk


def test_every_test_a_control_names_exists() -> None:
    assert missing_tests() == []


def test_the_committed_log_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/hazard-log.md is stale: run python -m ketacare.clinical.hazard_doc"
    )
    assert DEFAULT_OUTPUT == DOC


def test_the_risk_matrix_is_dcb0129s() -> None:
    log = load_hazards()
    assert log.matrix[("catastrophic", "very_high")] == 5
    assert log.matrix[("minor", "very_low")] == 1
    assert log.matrix[("major", "medium")] == 3


def test_the_log_names_rules_and_shows_ratings() -> None:
    text = render()
    assert "`eligibility:gabapentinoids`" in text
    assert "Catastrophic × Medium → **4**" in text


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (CHECK_IN_TESTS, "tests = []", "non-empty list"),
        (CHECK_IN_TESTS, 'tests = ["check-in works"]', "not a test node id"),
        ('"eligibility:gabapentinoids",', '"eligibility:gabapentin",', "names no rule"),
        ('"protocol:im_titration"]', '"protocol:im_weekly"]', "names no rule"),
        ('refs = ["route:ketacare.web.tenancy"', 'refs = ["tenancy"', "must read kind:name"),
        ('kind = "alarm"', 'kind = "hope"', "kind: expected one of"),
        ('id = "lost_alert"', 'id = "lost_page"', "id: expected one of"),
        ('likelihood_after = "very_low"', 'likelihood_after = "very_high"', "cannot raise"),
        ("very_low = [1, 1, 2, 2, 3]", "very_low = [1, 1, 2]", "one risk per consequence"),
        ('5 = "unacceptable"', "", "needs a meaning"),
        ('id = "check-in-scope"', 'id = "tenancy-guard"', "control ids repeat"),
    ],
)
def test_a_malformed_hazard_log_is_refused_naming_the_key(old: str, new: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parsed(old, new)


def test_a_hazard_without_controls_is_refused() -> None:
    start = TEXT.index('[[hazards.controls]]\nid = "check-in-scope"')
    end = TEXT.index("# --- missed contraindication")
    text = TEXT[: TEXT.index('[[hazards.controls]]\nid = "tenancy-guard"')] + TEXT[end:]
    assert start > 0
    with pytest.raises(DataError, match="controls"):
        parse_hazards(parse_document(text, NAME), core_refs())


def test_a_missing_or_repeated_hazard_is_refused() -> None:
    with pytest.raises(DataError, match="each hazard once"):
        parsed('id = "diversion"', 'id = "misuse"')


def test_missing_tests_finds_a_renamed_test(tmp_path: Path) -> None:
    (tmp_path / "tests" / "treatment").mkdir(parents=True)
    (tmp_path / "tests" / "treatment" / "test_services.py").write_text(
        "def test_check_in_refuses_another_clinics_appointment():\n    pass\n", encoding="utf-8"
    )
    missing = missing_tests(root=tmp_path)
    assert (
        "tests/treatment/test_services.py::test_check_in_refuses_another_clinics_appointment"
        not in missing
    )
    assert "tests/audit/test_audit.py::test_viewing_a_patient_page_adds_an_audit_entry" in missing


def test_main_writes_and_checks_the_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "hazard-log.md"
    assert main(["--check", "--output", str(output)]) == 1
    assert main(["--output", str(output)]) == 0
    assert main(["--check", "--output", str(output)]) == 0
    output.write_text("edited\n", encoding="utf-8")
    assert main(["--check", "--output", str(output)]) == 1
    assert "stale" in capsys.readouterr().err
