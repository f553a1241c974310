"""Signed monitoring forms are chained like the ledger: `ketacare rems verify` finds a signed
form edited after signing, and a signature altered or removed."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ketacare.audit.models import AppendOnlyError
from ketacare.rems import services
from ketacare.rems.models import MonitoringForm, MonitoringFormSignature
from ketacare.rems.signatures import content_hash, verify
from tests.ledger.factories import as_actor
from tests.rems.test_services import _esketamine_session_discharged

pytestmark = pytest.mark.django_db


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def signed(world, team, session_clock):
    """An esketamine session's monitoring form, filled from the record and signed."""
    session = _esketamine_session_discharged(world, team, session_clock)
    form = MonitoringForm.objects.get(session_id=session.pk)
    nurse = as_actor(world.staff["nurse"], world.clinic_a, "nurse")
    services.monitoring_form_fill(actor=nurse, form_id=form.pk)
    return services.monitoring_form_sign(actor=nurse, form_id=form.pk)


def test_signing_appends_what_was_signed_to_the_clinics_chain(signed, world, capsys):
    signature = MonitoringFormSignature.objects.get(form=signed)
    assert signature.chain_key == f"clinic:{world.clinic_a.pk}" and signature.seq == 1
    assert signature.answers == signed.answers
    assert signature.content_hash == content_hash(signed.answers, signed.definition_version)
    assert signature.signed_by_id == world.staff["nurse"].pk
    assert verify().ok
    call_command("rems", "verify")
    assert "1 signed form(s), 1 signature(s) in 1 clinic chain(s)" in capsys.readouterr().out


def test_a_signature_cannot_be_changed_or_deleted(signed):
    signature = MonitoringFormSignature.objects.get(form=signed)
    with pytest.raises(AppendOnlyError):
        signature.save()
    with pytest.raises(AppendOnlyError):
        signature.delete()


def test_a_signed_form_edited_afterwards_is_found(signed):
    # given someone with database access changing a signed answer
    answers = {**signed.answers, "bp_at_40": "120/80"}
    _raw(
        "UPDATE rems_monitoringform SET answers = %s WHERE id = %s",
        [connection.ops.adapt_json_value(answers, None), signed.pk],
    )
    # when the signed forms are verified
    result = verify()
    # then that form is named, and the command fails
    assert not result.ok
    assert result.problems == [
        f"form {signed.pk} (session {signed.session_id}): its answers differ from what was "
        "signed (signature seq 1)"
    ]
    with pytest.raises(CommandError, match=f"form {signed.pk}"):
        call_command("rems", "verify")


def test_a_signed_form_edited_together_with_its_hash_is_still_found(signed):
    # the hash on the form is recomputed by the editor too: the chained signature still differs
    answers = {**signed.answers, "bp_before": "100/60"}
    _raw(
        "UPDATE rems_monitoringform SET answers = %s, content_hash = %s WHERE id = %s",
        [
            connection.ops.adapt_json_value(answers, None),
            content_hash(answers, signed.definition_version),
            signed.pk,
        ],
    )
    assert "differ from what was signed" in verify().problems[0]


def test_an_altered_signature_breaks_the_chain(signed):
    # given the chained signature edited to match an edited form
    answers = {**signed.answers, "bp_at_40": "120/80"}
    value = connection.ops.adapt_json_value(answers, None)
    _raw("UPDATE rems_monitoringform SET answers = %s WHERE id = %s", [value, signed.pk])
    _raw("UPDATE rems_monitoringformsignature SET answers = %s WHERE form_id = %s",
         [value, signed.pk])  # fmt: skip
    # then the chain names the signature as altered, here and in the shared check
    problems = verify().problems
    assert any("altered" in p and "rems_form/clinic:" in p for p in problems)
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_a_removed_signature_is_found(signed):
    _raw("DELETE FROM rems_monitoringformsignature WHERE form_id = %s", [signed.pk])
    problems = verify().problems
    assert any("removed" in p for p in problems)
    where = f"form {signed.pk} (session {signed.session_id})"
    assert f"{where}: signed, but its signature is not on the chain" in problems


def test_a_signed_form_moves_with_the_clinic_archive_and_still_verifies(
    signed, world, tmp_path, settings
):
    from ketacare.audit.services import audit_verify
    from ketacare.portability.archive import clinic_export, clinic_import
    from tests.portability.test_round_trip import _empty_ketacare

    # given the clinic's archive, with the signature and its chain head
    settings.KETACARE_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    first = clinic_export(slug=world.clinic_a.slug, path=tmp_path / "a.zip")
    assert first.tables["rems.monitoringformsignature"]["count"] == 1
    assert first.tables["rems.monitoringform"]["count"] == 1
    # when a fresh KetaCare imports it
    _empty_ketacare()
    clinic_import(path=tmp_path / "a.zip")
    # then the signature, the form it signed and the clinic's chains all verify there
    again = clinic_export(slug=world.clinic_a.slug, path=tmp_path / "again.zip")
    assert again.tables == first.tables
    assert MonitoringFormSignature.objects.get().form_id == signed.pk
    assert verify().ok
    report = audit_verify()
    assert report.ok, [p.describe() for p in report.problems]
