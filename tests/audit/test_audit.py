"""The audit trail: every patient read is recorded; tampering is detected and named."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ketacare.audit.models import AppendOnlyError, AuditEntry
from ketacare.audit.services import audit_verify

pytestmark = pytest.mark.django_db


def _view_patient_three_times(world):
    client = world.web(world.staff["nurse"])
    for _ in range(3):
        assert client.get(f"/patients/{world.patient_a.pk}/").status_code == 200


def test_viewing_a_patient_page_adds_an_audit_entry(world):
    # given
    before = AuditEntry.objects.filter(patient_id=world.patient_a.pk).count()
    # when
    response = world.web(world.staff["nurse"]).get(f"/patients/{world.patient_a.pk}/")
    # then
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(patient_id=world.patient_a.pk).order_by("-seq").first()
    assert AuditEntry.objects.filter(patient_id=world.patient_a.pk).count() == before + 1
    assert (entry.action, entry.object_type, entry.actor_username) == ("read", "patient", "a.nurse")
    assert (entry.clinic_id, entry.actor_role, entry.channel) == (world.clinic_a.pk, "nurse", "web")


def test_listing_patients_records_which_patients_were_shown(world):
    world.web(world.staff["front_desk"]).get("/patients/")
    entry = AuditEntry.objects.filter(action="list").order_by("-seq").first()
    assert entry.detail["patient_ids"] == [world.patient_a.pk]


def test_an_untouched_trail_verifies(world):
    _view_patient_three_times(world)
    report = audit_verify()
    assert report.ok and report.entries >= 3
    call_command("audit", "verify")  # exits 0


def test_editing_an_entry_in_the_database_makes_verify_fail_and_name_it(world):
    # given a trail, and one entry altered behind the application's back
    _view_patient_three_times(world)
    victim = AuditEntry.objects.filter(action="read").order_by("seq")[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET actor_username = %s WHERE id = %s", ["mallory", victim.pk]
        )
    # when
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify")
    # then the first bad entry is named
    assert f"entry id {victim.pk}" in str(failure.value)
    assert f"seq {victim.seq}" in str(failure.value)
    assert "altered" in str(failure.value)


def test_deleting_an_entry_in_the_database_makes_verify_fail(world):
    _view_patient_three_times(world)
    victim = AuditEntry.objects.filter(action="read").order_by("seq")[1]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [victim.pk])
    report = audit_verify()
    assert not report.ok
    assert report.problems[0].seq == victim.seq
    assert "missing" in report.problems[0].reason


def test_deleting_the_newest_entry_is_detected_too(world):
    _view_patient_three_times(world)
    newest = AuditEntry.objects.filter(clinic_id=world.clinic_a.pk).order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [newest.pk])
    report = audit_verify()
    assert not report.ok and "removed" in report.problems[0].reason


def test_the_application_cannot_change_or_delete_entries(world):
    _view_patient_three_times(world)
    entry = AuditEntry.objects.first()
    entry.actor_username = "mallory"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(actor_username="mallory")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_sequence_numbers_are_consecutive_per_clinic(world):
    _view_patient_three_times(world)
    world.web(world.outsiders["nurse"]).get(f"/patients/{world.patient_b.pk}/")
    for key in AuditEntry.objects.values_list("chain_key", flat=True).distinct():
        seqs = list(
            AuditEntry.objects.filter(chain_key=key).order_by("seq").values_list("seq", flat=True)
        )
        assert seqs == list(range(1, len(seqs) + 1))


def test_admins_browse_only_their_own_clinics_trail(world):
    _view_patient_three_times(world)
    world.web(world.outsiders["nurse"]).get(f"/patients/{world.patient_b.pk}/")
    response = world.web(world.staff["admin"]).get("/audit/", {"action": "read"})
    assert response.status_code == 200
    shown = list(response.context["page"])
    assert shown and {e.clinic_id for e in shown} == {world.clinic_a.pk}


def test_the_audit_page_filters_by_user(world):
    _view_patient_three_times(world)
    world.web(world.staff["prescriber"]).get(f"/patients/{world.patient_a.pk}/")
    response = world.web(world.staff["admin"]).get("/audit/", {"user": "a.prescriber"})
    assert {e.actor_username for e in response.context["page"]} == {"a.prescriber"}


def test_a_nurse_may_not_browse_the_trail(world):
    assert world.web(world.staff["nurse"]).get("/audit/").status_code == 403
