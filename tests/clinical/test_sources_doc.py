"""docs/clinical-sources.md is generated from the data and lists every rule with its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketacare.clinical._data import load_sources
from ketacare.clinical.eligibility import load_eligibility_rules
from ketacare.clinical.instruments import INSTRUMENT_IDS, get_instrument
from ketacare.clinical.protocols import load_monitoring_profiles, load_protocols
from ketacare.clinical.sources_doc import DEFAULT_OUTPUT, main, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "clinical-sources.md"


def test_the_committed_document_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/clinical-sources.md is stale: run python -m ketacare.clinical.sources_doc"
    )


def test_the_default_output_is_the_repository_docs_file() -> None:
    assert DEFAULT_OUTPUT == DOC


def row_of(text: str, marker: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {marker} |"))


def test_every_eligibility_rule_appears_with_a_source() -> None:
    text = render()
    for rule in load_eligibility_rules().rules:
        cells = [cell.strip() for cell in row_of(text, rule.id).strip("|").split(" | ")]
        assert cells[-1], rule.id
        assert rule.citation.render() == cells[-1]


def test_every_protocol_instrument_profile_and_source_appears() -> None:
    text = render()
    for protocol in load_protocols().values():
        assert f"(`{protocol.id}`, version {protocol.version})" in text
        assert f"Sources: {protocol.citation.render()}" in text
    for instrument_id in INSTRUMENT_IDS:
        instrument = get_instrument(instrument_id)
        assert f"(`{instrument_id}`)" in text
        assert f"- Source: {instrument.citation.render()}" in text
    for profile in load_monitoring_profiles():
        assert f"| {profile} |" in text
    for source in load_sources().values():
        assert f"(`{source.id}`): {source.citation}" in text


def test_policy_defaults_are_marked_as_clinic_policy() -> None:
    assert "[policy default: clinic policy]" in row_of(render(), "pregnancy")


def test_main_writes_and_checks_the_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    output = tmp_path / "docs" / "clinical-sources.md"
    # when / then
    assert main(["--check", "--output", str(output)]) == 1  # missing
    assert main(["--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == render()
    assert main(["--check", "--output", str(output)]) == 0
    output.write_text("edited by hand\n", encoding="utf-8")
    assert main(["--check", "--output", str(output)]) == 1
    assert "out of date" in capsys.readouterr().err
