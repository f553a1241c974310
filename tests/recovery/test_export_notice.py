"""The clinic archive that carries Part 2 records carries the notice against redisclosure."""

import json
import zipfile

import pytest

from ketacare.clinical.recovery import REDISCLOSURE_NOTICE_FULL
from ketacare.portability.archive import clinic_export
from ketacare.recovery import services
from ketacare.recovery.services.common import today_of

pytestmark = pytest.mark.django_db


def test_an_archive_with_programme_records_carries_the_notice(world, actors, tmp_path):
    # given no recovery record: no notice
    plain = clinic_export(slug=world.clinic_a.slug, path=tmp_path / "plain.zip")
    assert plain.redisclosure_notice == ""
    # given a substance-use programme
    services.programme_start(
        actor=actors["prescriber"],
        patient_id=world.patient_a.pk,
        substance="alcohol",
        started_on=today_of(actors["prescriber"]),
    )
    # when the clinic's records are exported
    clinic_export(slug=world.clinic_a.slug, path=tmp_path / "part2.zip")
    # then the manifest and a notice file carry the notice
    with zipfile.ZipFile(tmp_path / "part2.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["redisclosure_notice"] == REDISCLOSURE_NOTICE_FULL
        assert "42 CFR part 2" in archive.read("NOTICE-42-CFR-PART-2.txt").decode()
