"""A clinic's archive: the demo clinics round-trip through import with equal counts and hashes."""

import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ketacare.accounts.models import Clinic
from ketacare.audit.services import audit_verify
from ketacare.demo import load_demo_data
from ketacare.portability.archive import ArchiveError, clinic_import
from ketacare.portability.tables import clinic_tables, ketacare_models, uncovered_models

pytestmark = pytest.mark.django_db


def _manifest(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


def _export(slug, path):
    call_command("clinic_export", "--clinic", slug, str(path))
    return _manifest(path)


def _rows(path, label):
    with zipfile.ZipFile(path) as archive:
        return [json.loads(line) for line in archive.read(f"tables/{label}.jsonl").splitlines()]


# Tables of the newer apps the demo clinics hold rows in: each must travel (a count of zero
# would mean the app's data was left behind).
DEMO_TABLES_WITH_DATA = [
    "ledger.registration",
    "ledger.storagelocation",
    "ledger.product",
    "ledger.lot",
    "ledger.receipt",
    "ledger.container",
    "ledger.draw",
    "ledger.ledgerentry",
    "ledger.stockbalance",
    "rems.settingcertification",
    "rems.patientenrolment",
    "rems.monitoringform",
    "athome.homeprogramme",
    "athome.homeprescription",
    "athome.supplymovement",
    "athome.homedose",
    "scheduling.appointment",
]


def _empty_ketacare():
    # Every table emptied, as on a fresh install (migrations kept). PostgreSQL checks the
    # deferred foreign keys of the test's own inserts first, or it refuses to truncate.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_demo_clinics_round_trip_with_equal_counts_and_hashes(tmp_path):
    # given both demo clinics, exported
    load_demo_data()
    slugs = list(Clinic.objects.order_by("slug").values_list("slug", flat=True))
    first = {slug: _export(slug, tmp_path / f"{slug}.zip") for slug in slugs}
    assert all(m["tables"]["patients.patient"]["count"] == 15 for m in first.values())
    assert all(m["tables"]["audit.auditentry"]["count"] > 100 for m in first.values())
    for slug, manifest in first.items():
        empty = [t for t in DEMO_TABLES_WITH_DATA if not manifest["tables"][t]["count"]]
        assert empty == [], slug
        # the ledger travels with its chain heads
        heads = {r["kind"] for r in _rows(tmp_path / f"{slug}.zip", "audit.chainhead")}
        assert {"audit", "ledger"} <= heads, slug
        # a clinic whose archive holds Part 2 records (the demo's recovery programme) says so
        part2 = any(t.startswith("recovery.") and m["count"] for t, m in manifest["tables"].items())
        assert bool(manifest.get("redisclosure_notice")) == part2, slug
    assert any(m.get("redisclosure_notice") for m in first.values())
    # when a fresh KetaCare imports both archives
    _empty_ketacare()
    assert not Clinic.objects.exists()
    for slug in slugs:
        call_command("clinic_import", str(tmp_path / f"{slug}.zip"))
    # then every table and every FHIR file exports again with the same count and hash
    for slug in slugs:
        again = _export(slug, tmp_path / f"{slug}-again.zip")
        assert again["tables"] == first[slug]["tables"], slug
        assert again["fhir"] == first[slug]["fhir"], slug
    # and the audit chains verify
    report = audit_verify()
    assert report.ok, [p.describe() for p in report.problems]


def test_an_altered_archive_is_refused_before_anything_is_written(world, tmp_path):
    path = tmp_path / "a.zip"
    _export(world.clinic_a.slug, path)
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(altered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "tables/patients.patient.jsonl":
                data = data.replace(b"Given", b"Forged")
            dst.writestr(item, data)
    _empty_ketacare()
    with pytest.raises(ArchiveError, match="does not match the manifest"):
        clinic_import(path=altered)
    assert not Clinic.objects.exists()


def test_import_refuses_a_ketacare_that_already_holds_the_clinic(world, tmp_path):
    path = tmp_path / "a.zip"
    _export(world.clinic_a.slug, path)
    with pytest.raises(CommandError, match="already here"):
        call_command("clinic_import", str(path))


def test_every_model_with_clinic_data_is_carried_or_excluded_with_a_reason():
    # a new app's model with a clinic foreign key is carried without any change here;
    # anything else (a table that names clinic rows without a clinic key) fails this test
    assert uncovered_models() == []
    carried = {t.label for t in clinic_tables()}
    with_clinic_key = {
        m._meta.label_lower
        for m in ketacare_models()
        if any(f.is_relation and f.related_model is Clinic for f in m._meta.concrete_fields)
    }
    from ketacare.portability.tables import EXCLUDED

    assert with_clinic_key - set(EXCLUDED) <= carried
    assert {"audit.auditentry", "audit.chainhead", "accounts.user", "accounts.clinic"} <= carried
    # every exclusion names a model that exists and says why; no KetaCare model escapes the
    # discovery by being unmanaged
    from django.apps import apps

    from ketacare.portability.tables import GLOBAL

    known = {m._meta.label_lower for m in ketacare_models()}
    assert all(reason.strip() for reason in {**EXCLUDED, **GLOBAL}.values())
    assert set(EXCLUDED) | set(GLOBAL) <= known
    every = {
        m._meta.label_lower
        for config in apps.get_app_configs()
        if config.name.startswith("ketacare.")
        for m in config.get_models(include_auto_created=True)
        if not m._meta.proxy
    }
    assert every == known


def test_every_recovery_table_and_the_telehealth_setting_round_trip_and_chains_verify(
    world, tmp_path, settings
):
    # this KetaCare's own checkpoints (another test's demo may have written some)
    settings.KETACARE_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    # given a clinic with a record in every recovery table and a chained telehealth setting
    from ketacare.athome.telehealth import policy_version, telehealth_policy_set
    from ketacare.clinical.recovery import REDISCLOSURE_NOTICE_FULL
    from ketacare.recovery import services
    from ketacare.recovery.services.common import today_of
    from tests.ledger.factories import as_actor

    admin = as_actor(world.staff["admin"], world.clinic_a, "admin")
    prescriber = as_actor(world.staff["prescriber"], world.clinic_a, "prescriber")
    nurse = as_actor(world.staff["nurse"], world.clinic_a, "nurse")
    pid, today = world.patient_a.pk, today_of(nurse)
    services.programme_start(
        actor=prescriber, patient_id=pid, substance="alcohol", started_on=today
    )
    services.drug_screen_record(
        actor=nurse,
        patient_id=pid,
        collected_on=today,
        substance="cocaine",
        result="positive",
        confirmed=True,
        prescribed=False,
    )
    services.misuse_decision_record(
        actor=prescriber,
        patient_id=pid,
        decision="pause",
        reason="Positive screen; talk first.",
        idempotency_key="round-trip-decision",
    )
    therapist = as_actor(world.staff["therapist"], world.clinic_a, "therapist")
    services.plan_version_write(
        actor=therapist, patient_id=pid, fields={"triggers": "Payday"}, based_on=0
    )
    services.plan_review_record(
        actor=therapist, patient_id=pid, version_number=1, note="Went through it together."
    )
    services.use_day_mark(actor=nurse, patient_id=pid, day=today, used=False)
    services.withdrawal_check_record(actor=nurse, patient_id=pid, answers=[False] * 7)
    services.session_request_record(
        actor=nurse, patient_id=pid, kind="session_request_earlier", requested_on=today
    )
    services.part2_consent_record(
        actor=prescriber,
        patient_id=pid,
        purposes=["treatment"],
        recipient="",
        signed_on=today,
        expires_on=None,
    )
    services.part2_disclose(
        actor=prescriber, patient_id=pid, purpose="treatment", recipient="Dr Lee"
    )
    for bases in (("in_person_evaluation",), ("telemedicine_flexibility", "in_person_evaluation")):
        telehealth_policy_set(
            actor=admin,
            period_id="from_2027",
            bases=bases,
            reason="The clinic's choice after the flexibilities end.",
            version=policy_version(clinic_id=world.clinic_a.pk),
        )
    # and an integration session booked with its therapist
    from ketacare.accounts.access import Actor
    from ketacare.accounts.roles import Role
    from ketacare.scheduling.models import AppointmentKind
    from ketacare.scheduling.services import appointment_book
    from tests.scheduling.factories import local, next_monday, open_every_day

    open_every_day(world.clinic_a)
    appointment_book(
        actor=Actor(user=world.staff["front_desk"], clinic=world.clinic_a, role=Role.FRONT_DESK),
        patient=world.patient_a,
        starts_at=local(world.clinic_a, next_monday(world.clinic_a), 10),
        kind=AppointmentKind.INTEGRATION,
        therapist=world.staff["therapist"],
    )
    first = _export(world.clinic_a.slug, tmp_path / "a.zip")
    booked = _rows(tmp_path / "a.zip", "scheduling.appointment")
    assert [r["therapist_id"] for r in booked] == [world.staff["therapist"].pk]
    carried = {
        "recovery.sudprogramme",
        "recovery.drugscreen",
        "recovery.misusereview",
        "recovery.misusedecision",
        "recovery.recoveryplanversion",
        "recovery.recoveryplanreview",
        "recovery.useday",
        "recovery.withdrawalcheck",
        "recovery.sessionrequest",
        "recovery.part2consent",
        "recovery.part2disclosure",
        "athome.telehealthpolicy",
    }
    assert [t for t in sorted(carried) if not first["tables"][t]["count"]] == []
    # every table of the recovery app is among them (a new one must join this test)
    assert {t for t in first["tables"] if t.startswith("recovery.")} <= carried
    assert first["tables"]["athome.telehealthpolicy"]["count"] == 2
    assert "telehealth_policy" in {r["kind"] for r in _rows(tmp_path / "a.zip", "audit.chainhead")}
    assert first["redisclosure_notice"] == REDISCLOSURE_NOTICE_FULL
    # when a fresh KetaCare imports it
    _empty_ketacare()
    clinic_import(path=tmp_path / "a.zip")
    # then it exports again the same, and every chain (audit, telehealth setting) verifies
    again = _export(world.clinic_a.slug, tmp_path / "again.zip")
    assert again["tables"] == first["tables"]
    assert again["fhir"] == first["fhir"]
    report = audit_verify()
    assert report.ok, [p.describe() for p in report.problems]
    assert report.chains >= 2  # the clinic's audit trail and its telehealth setting
