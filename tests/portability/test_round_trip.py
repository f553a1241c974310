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
