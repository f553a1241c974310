"""An at-home programme moves with the clinic archive: every table of it round-trips."""

from datetime import timedelta

import pytest

from ketacare.athome import services
from ketacare.audit.services import audit_verify
from ketacare.errors import KetaCareError
from ketacare.portability.archive import clinic_export, clinic_import
from tests.athome.conftest import actor, enrol, key, prescribe, take_a_dose
from tests.factories import PatientFactory
from tests.portability.test_round_trip import _empty_ketacare

pytestmark = pytest.mark.django_db

TABLES = [
    "athome.homeprogramme",
    "athome.homeprescription",
    "athome.supplymovement",
    "athome.homedose",
    "athome.sittercheckin",
    "athome.followupreview",
    "athome.refilldecision",
    "athome.dosestep",
    "athome.programmestatuschange",
]


def test_every_at_home_table_round_trips_through_the_archive(
    world, home, session_clock, tmp_path, settings
):
    # given a programme with a dose, a sitter's check-in, a review and a refused refill
    dose = take_a_dose(home, tracker=None)
    services.home_dose_sitter_checkin(link=home.sitter_link, dose_id=dose.pk, well=True)
    session_clock.travel(timedelta(days=7))
    services.review_record(
        actor=actor(world, "nurse"), programme_id=home.programme.pk,
        reviewed_on=session_clock.now().date(), modality="audio_video",
        note="Doing well; sitter present.", counted_units=3,
    )  # fmt: skip
    with pytest.raises(KetaCareError):  # refused, and the decision kept
        services.refill_release(
            actor=actor(world, "prescriber"), programme_id=home.programme.pk, idempotency_key=key()
        )
    # and another with a dose step and a pause
    other = enrol(world, PatientFactory(clinic=world.clinic_a))
    prescribe(world, other, strength_mg="25")
    services.dose_step_decide(
        actor=actor(world, "prescriber"), programme_id=other.pk, dose_mg="75",
        reason="Little effect at 50 mg; no red flags.",
    )  # fmt: skip
    services.programme_status_change(
        actor=actor(world, "nurse"), programme_id=other.pk, to_status="paused",
        reason="Travelling for two weeks.", seen_status="active",
    )  # fmt: skip
    settings.KETACARE_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    first = clinic_export(slug=world.clinic_a.slug, path=tmp_path / "a.zip")
    assert [t for t in TABLES if not first.tables[t]["count"]] == []
    # when a fresh KetaCare imports it
    _empty_ketacare()
    clinic_import(path=tmp_path / "a.zip")
    # then every table exports again the same and the chains verify
    again = clinic_export(slug=world.clinic_a.slug, path=tmp_path / "again.zip")
    assert again.tables == first.tables
    assert again.fhir == first.fhir
    report = audit_verify()
    assert report.ok, [p.describe() for p in report.problems]
