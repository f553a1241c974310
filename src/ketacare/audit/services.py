"""Append to the audit trail, and verify that nobody has altered it."""

from pathlib import Path
from typing import Any

from ketacare.accounts.access import Actor
from ketacare.audit.chained import ChainProblem, VerifyReport, chain_append, chains_verify
from ketacare.audit.models import AuditAction, AuditEntry
from ketacare.kernel import clock

__all__ = ["ChainProblem", "VerifyReport", "audit_record", "audit_verify", "chain_key_for"]


def chain_key_for(clinic_id: int | None) -> str:
    """Each clinic has its own chain, so clinics never contend for one lock."""
    return f"clinic:{clinic_id}" if clinic_id is not None else "system"


def audit_record(
    *,
    actor: Actor | None,
    action: AuditAction | str,
    object_type: str = "",
    object_id: object = "",
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
    clinic_id: int | None = None,
    username: str = "",
    client_address: str | None = None,
) -> AuditEntry:
    """Append one entry to the clinic's chain, in the caller's transaction if there is one."""
    if actor is not None:
        clinic_id = actor.clinic_id
        username = actor.user.username
        client_address = actor.client_address
    values: dict[str, Any] = {
        "at": clock.wall_now(),
        "clinic_id": clinic_id,
        "actor_id": actor.user.pk if actor else None,
        "actor_username": username,
        "actor_role": str(actor.role) if actor else "",
        "channel": actor.channel if actor else "",
        "action": str(action),
        "object_type": object_type,
        "object_id": str(object_id),
        "patient_id": patient_id,
        "client_address": client_address or "",
        "detail": detail or {},
    }
    return chain_append(AuditEntry, chain_key=chain_key_for(clinic_id), values=values)


def audit_verify(*, checkpoints: Path | None = None, use_checkpoints: bool = True) -> VerifyReport:
    """Recompute every chain (audit and every other chained record) against the checkpoints."""
    return chains_verify(checkpoints=checkpoints, use_checkpoints=use_checkpoints)
