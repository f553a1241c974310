"""Tampering with the trail through the database, as someone without the chain key would."""

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ketacare.audit.chain import GENESIS_HASH, canonical_json, link_digest
from ketacare.audit.chained import chains_checkpoint
from ketacare.audit.checkpoints import read_checkpoints
from ketacare.audit.models import AuditEntry, ChainHead
from ketacare.audit.services import audit_record, audit_verify

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trail(world, tmp_path):
    """Six entries in clinic A's chain, with a signed checkpoint of every head."""
    for n in range(6):
        audit_record(actor=None, action="read", clinic_id=world.clinic_a.pk, object_id=n)
    audit_record(actor=None, action="read", clinic_id=world.clinic_b.pk, object_id="b")
    path = tmp_path / "checkpoints.jsonl"
    assert chains_checkpoint(path) == 2
    return path


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _entries(world):
    return list(AuditEntry.objects.filter(clinic_id=world.clinic_a.pk).order_by("seq"))


def _unkeyed(prev_hash, entry):
    return hashlib.sha256((prev_hash + canonical_json(entry.chain_body())).encode()).hexdigest()


def test_an_untouched_trail_verifies_against_its_checkpoint(world, trail):
    report = audit_verify(checkpoints=trail)
    assert report.ok and report.checkpoint_lines == 1 and report.entries == 7


def test_removing_the_tail_and_rewinding_the_head_row_is_caught_by_the_checkpoint(world, trail):
    # given the last two entries deleted and the head row rewound to the new last entry
    entries = _entries(world)
    _sql("DELETE FROM audit_auditentry WHERE id IN (%s, %s)", [entries[-1].pk, entries[-2].pk])
    _sql(
        "UPDATE audit_chainhead SET last_seq = %s, last_hash = %s WHERE key = %s",
        [entries[-3].seq, entries[-3].entry_hash, f"clinic:{world.clinic_a.pk}"],
    )
    # then the chain itself adds up, but not to the signed checkpoint
    assert audit_verify(use_checkpoints=False).ok
    report = audit_verify(checkpoints=trail)
    assert not report.ok
    assert (
        "removed" in report.problems[0].reason
        and "checkpoint has seq 6" in report.problems[0].reason
    )


def test_deleting_a_clinics_whole_chain_with_its_head_is_caught(world, trail):
    _sql("DELETE FROM audit_auditentry WHERE chain_key = %s", [f"clinic:{world.clinic_a.pk}"])
    _sql("DELETE FROM audit_chainhead WHERE key = %s", [f"clinic:{world.clinic_a.pk}"])
    assert audit_verify(use_checkpoints=False).ok
    report = audit_verify(checkpoints=trail)
    [problem] = report.problems
    assert problem.chain_key == f"audit/clinic:{world.clinic_a.pk}"
    assert "whole chain deleted" in problem.reason


@pytest.mark.parametrize("guess", ["unkeyed sha-256", "the demo key of another install"])
def test_a_forged_append_with_a_recomputed_hash_is_caught(world, trail, guess):
    # given a forged seventh entry linked to the real head, hashed without the real key
    last = _entries(world)[-1]
    forged = AuditEntry(
        chain_key=last.chain_key,
        seq=7,
        at=last.at,
        clinic_id=last.clinic_id,
        action="read",
        object_id="forged",
        detail={},
        prev_hash=last.entry_hash,
    )
    forged.entry_hash = (
        _unkeyed(last.entry_hash, forged)
        if guess == "unkeyed sha-256"
        else link_digest(prev_hash=last.entry_hash, body=forged.chain_body(), key=b"guessed")
    )
    forged.save(force_insert=True)
    _sql(
        "UPDATE audit_chainhead SET last_seq = 7, last_hash = %s WHERE key = %s",
        [forged.entry_hash, last.chain_key],
    )
    # then
    report = audit_verify(checkpoints=trail)
    assert [(p.seq, p.entry_id) for p in report.problems] == [(7, forged.pk)]
    assert "forged" in report.problems[0].reason


def test_re_hashing_the_whole_chain_after_an_edit_is_caught(world, trail):
    # given entry 3 edited and every later hash recomputed (without the key) and the head updated
    prev = GENESIS_HASH
    for entry in _entries(world):
        if entry.seq == 3:
            entry.actor_username = "mallory"
            _sql("UPDATE audit_auditentry SET actor_username = 'mallory' WHERE id = %s", [entry.pk])
        digest = _unkeyed(prev, entry)
        _sql(
            "UPDATE audit_auditentry SET prev_hash = %s, entry_hash = %s WHERE id = %s",
            [prev, digest, entry.pk],
        )
        prev = digest
    _sql("UPDATE audit_chainhead SET last_hash = %s WHERE key = %s", [prev, entry.chain_key])
    # then the first re-hashed entry is named
    report = audit_verify(checkpoints=trail)
    assert report.problems[0].seq == 1 and "altered" in report.problems[0].reason


def test_a_checkpoint_line_edited_in_the_file_is_refused(world, trail):
    line = json.loads(trail.read_text())
    line["heads"][f"audit/clinic:{world.clinic_a.pk}"][0] = 2
    trail.write_text(json.dumps(line) + "\n")
    report = audit_verify(checkpoints=trail)
    assert not report.ok and "bad signature" in report.problems[0].reason


def test_checkpoints_only_record_heads_that_moved_and_link_each_line_to_the_last(world, trail):
    assert chains_checkpoint(trail) == 0
    audit_record(actor=None, action="read", clinic_id=world.clinic_a.pk, object_id="later")
    assert chains_checkpoint(trail) == 1
    state = read_checkpoints(trail)
    assert state.lines == 2 and state.heads[f"audit/clinic:{world.clinic_a.pk}"][0] == 7
    assert audit_verify(checkpoints=trail).ok


def test_entries_appended_after_the_last_checkpoint_still_verify(world, trail):
    audit_record(actor=None, action="read", clinic_id=world.clinic_a.pk, object_id="later")
    assert audit_verify(checkpoints=trail).ok


def test_verify_command_fails_without_a_checkpoint_when_one_is_required(world, tmp_path):
    with pytest.raises(CommandError, match="No checkpoint file"):
        call_command("audit", "verify", "--require-checkpoint", "--checkpoints", tmp_path / "none")


def test_the_checkpoint_command_and_verify_against_it(world, tmp_path, capsys):
    path = tmp_path / "cp.jsonl"
    audit_record(actor=None, action="read", clinic_id=world.clinic_a.pk)
    call_command("audit", "checkpoint", "--checkpoints", str(path))
    call_command("audit", "verify", "--require-checkpoint", "--checkpoints", str(path))
    assert "against 1 signed checkpoint" in capsys.readouterr().out
    assert ChainHead.objects.filter(kind="audit").count() == 1
