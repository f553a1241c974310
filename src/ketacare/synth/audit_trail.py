"""A clinic's audit trail over the network's history, hash-chained as the app chains it."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime

from ketacare.accounts.models import Clinic, User
from ketacare.accounts.roles import Role
from ketacare.audit.chain import GENESIS_HASH, chain_secret, link_digest
from ketacare.audit.models import AuditEntry, ChainHead
from ketacare.audit.services import chain_key_for
from ketacare.synth.bulk import TableWriter, db_datetime

# (weight, action, object type, about a patient): reads dominate a clinic's trail.
MIX = (
    (34, "read", "patient", True),
    (10, "read", "treatment_session", True),
    (8, "read", "course", True),
    (6, "read", "scale_response", True),
    (6, "list", "patient", False),
    (5, "list", "appointment", False),
    (8, "create", "monitoring_entry", True),
    (6, "create", "scale_response", True),
    (4, "create", "appointment", True),
    (3, "update", "treatment_session", True),
    (3, "update", "chart_section", True),
    (2, "sign", "screening", True),
    (2, "read", "safety_alert", True),
    (2, "read", "outcomes_dashboard", False),
    (1, "login", "user", False),
)
COLUMNS = [
    "id", "chain_key", "seq", "at", "clinic_id", "actor_id", "actor_username", "actor_role",
    "channel", "action", "object_type", "object_id", "patient_id", "client_address", "detail",
    "prev_hash", "entry_hash",
]  # fmt: skip


class AuditStream:
    """Writes `count` entries for one clinic, spread over its history, in one chain."""

    def __init__(self, clinic: Clinic, staff: dict[Role, list[User]], rng: random.Random) -> None:
        self.clinic = clinic
        self.staff = [(u.pk, u.username, str(role)) for role, users in staff.items() for u in users]
        self.rng = rng

    def write(self, arrivals: list[tuple[datetime, int]], count: int, now: datetime) -> int:
        """Append the entries and leave the chain head on the last; returns how many."""
        if not arrivals or count <= 0:
            return 0
        rng, clinic_id = self.rng, self.clinic.pk
        arrivals.sort()
        times = [a[0].timestamp() for a in arrivals]
        key = chain_key_for(clinic_id)
        head, _ = ChainHead.objects.get_or_create(kind=AuditEntry.CHAIN_KIND, key=key)
        seq, prev = head.last_seq, head.last_hash or GENESIS_HASH
        writer = TableWriter(AuditEntry, COLUMNS)
        weights = [m[0] for m in MIX]
        first, span = times[0], now.timestamp() - times[0]
        secret = chain_secret()
        # One unsaved entry, refilled for each row: its `chain_body` is exactly what the app signs.
        entry = AuditEntry(chain_key=key, channel="web", detail={}, clinic_id=clinic_id)
        kinds = rng.choices(MIX, weights=weights, k=count)
        for i, (_, action, object_type, about_patient) in enumerate(kinds):
            moment = first + (i + rng.random()) * span / count
            at = datetime.fromtimestamp(round(moment, 6), tz=UTC)
            known = bisect.bisect_right(times, moment)
            patient_id = arrivals[rng.randrange(known)][1] if about_patient and known else None
            actor_id, username, role = rng.choice(self.staff)
            object_id = str(patient_id) if object_type == "patient" and patient_id else ""
            if not object_id and action not in ("list", "login"):
                object_id = str(rng.randint(1, 10_000_000))
            seq += 1
            entry.seq, entry.at, entry.action = seq, at, action
            entry.actor_id, entry.actor_username, entry.actor_role = actor_id, username, role
            entry.object_type, entry.object_id, entry.patient_id = (
                object_type,
                object_id,
                patient_id,
            )
            entry.client_address = f"10.0.0.{actor_id % 250 + 1}"
            digest = link_digest(prev_hash=prev, body=entry.chain_body(), key=secret)
            writer.add(
                writer.new_id(), key, seq, db_datetime(at), clinic_id, actor_id, username, role,
                "web", action, object_type, object_id, patient_id, entry.client_address,
                "{}", prev, digest,
            )  # fmt: skip
            prev = digest
        writer.flush()
        head.last_seq, head.last_hash = seq, prev
        head.save(update_fields=["last_seq", "last_hash"])
        return writer.written
