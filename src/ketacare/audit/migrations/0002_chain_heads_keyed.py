"""Chain heads serve every chained record kind, and the audit chain is re-linked with the key.

Trails written before this migration were linked with an unkeyed SHA-256. Each chain is first
checked under the old rule; only an intact chain is re-linked with HMAC under the chain key
(`KETACARE_CHAIN_KEY`). A chain that does not verify stops the migration and is named, so
tampering is never laundered into a freshly keyed chain; an operator who has investigated it
may set KETACARE_REKEY_BROKEN_AUDIT=1 to re-link it anyway, after keeping a copy of the
database as it was.
"""

import os

from django.db import migrations, models

from ketacare.audit.chain import GENESIS_HASH, canonical_value, legacy_digest, link_digest

FIELDS = (
    "at", "clinic_id", "actor_id", "actor_username", "actor_role", "channel", "action",
    "object_type", "object_id", "patient_id", "client_address", "detail",
)


def _body(entry, *, keyed):
    body = {"chain_key": entry.chain_key, "seq": entry.seq}
    for name in FIELDS:
        value = getattr(entry, name)
        body[name] = value.isoformat(timespec="microseconds") if name == "at" else value
    if keyed:
        body = {name: canonical_value(value) for name, value in body.items()}
        body["kind"] = "audit"
    return body


def rekey(apps, schema_editor):
    ChainHead = apps.get_model("audit", "ChainHead")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    force = os.environ.get("KETACARE_REKEY_BROKEN_AUDIT") == "1"
    for head in ChainHead.objects.all():
        prev_old = prev_new = GENESIS_HASH
        seq = 0
        for entry in AuditEntry.objects.filter(chain_key=head.key).order_by("seq").iterator():
            seq += 1
            intact = (
                entry.seq == seq
                and entry.prev_hash == prev_old
                and legacy_digest(prev_hash=prev_old, body=_body(entry, keyed=False))
                == entry.entry_hash
            )
            if not intact and not force:
                raise RuntimeError(
                    f"Audit chain {head.key} does not verify at seq {seq} (entry id {entry.pk}); "
                    "investigate before re-keying (see docs/security.md)."
                )
            prev_old = entry.entry_hash
            entry.seq = seq
            new_hash = link_digest(prev_hash=prev_new, body=_body(entry, keyed=True))
            AuditEntry.objects.filter(pk=entry.pk).update(
                seq=seq, prev_hash=prev_new, entry_hash=new_hash
            )
            prev_new = new_hash
        if (seq != head.last_seq or prev_old != head.last_hash) and not force:
            raise RuntimeError(
                f"Audit chain {head.key} ends at seq {seq} but its head says {head.last_seq}; "
                "investigate before re-keying (see docs/security.md)."
            )
        ChainHead.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=prev_new)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel("AuditChain", "ChainHead"),
        migrations.AddField(
            model_name="chainhead",
            name="kind",
            field=models.CharField(default="audit", help_text="The chained model's kind.", max_length=40),
        ),
        migrations.AlterField(
            model_name="chainhead",
            name="key",
            field=models.CharField(help_text="'clinic:<id>' or 'system'.", max_length=64),
        ),
        migrations.AddConstraint(
            model_name="chainhead",
            constraint=models.UniqueConstraint(fields=("kind", "key"), name="chain_head_unique_per_kind"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(choices=[("read", "Read"), ("list", "List"), ("create", "Create"), ("update", "Update"), ("delete", "Delete"), ("export", "Export"), ("sign", "Sign"), ("login", "Log in"), ("logout", "Log out"), ("login_failed", "Failed log-in"), ("locked_out", "Locked out"), ("mfa", "Second factor")], max_length=20),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
