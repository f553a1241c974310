"""A clinic's telemedicine-prescribing rules: the shipped effective-dated periods (the core's
`telehealth.toml`) with the clinic's own choice of legal bases for the periods marked
configurable, such as what applies once the DEA flexibilities end on 31 Dec 2026.

One read gives the rules every prescription of the clinic is checked against; the setting is a
chained, append-only history, the latest row per period in force.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.athome.models import TelehealthPolicy
from ketacare.audit.chained import chain_append
from ketacare.audit.models import AuditAction, ChainHead
from ketacare.audit.services import audit_record
from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.telehealth import TelehealthRules, configure, load_telehealth_rules
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.versions import ensure_version


def _chain_key(clinic_id: int) -> str:
    return f"clinic:{clinic_id}"


def chosen_bases(*, clinic_id: int) -> dict[str, tuple[str, ...]]:
    """The clinic's bases per configurable period: the latest choice of each (one query)."""
    chosen: dict[str, tuple[str, ...]] = {}
    rows = TelehealthPolicy.objects.filter(clinic_id=clinic_id).order_by("seq")
    for row in rows.only("period_id", "bases"):
        chosen[row.period_id] = tuple(row.bases)
    return chosen


def telehealth_rules_for(*, clinic_id: int) -> TelehealthRules:
    """The rules the clinic's prescriptions are checked against (fails closed, naming why)."""
    try:
        return configure(load_telehealth_rules(), chosen_bases(clinic_id=clinic_id))
    except InvalidInput as error:
        # a stored choice the shipped rules no longer accept: no prescription until it is fixed
        raise Refused(
            f"The clinic's telemedicine setting cannot be used ({error}); an administrator "
            "sets it again.",
            field="telehealth_policy",
            code="telehealth_policy_invalid",
        ) from None


def policy_history(*, actor: Actor) -> list[TelehealthPolicy]:
    """Every choice the clinic made, newest first, with who made it."""
    actor.require(Permission.ATHOME_RULES_VIEW)
    return list(
        TelehealthPolicy.objects.filter(clinic_id=actor.clinic_id)
        .select_related("set_by")
        .order_by("-seq")
    )


def policy_version(*, clinic_id: int) -> int:
    """The number of choices recorded so far: a form sends it back to detect a stale page."""
    head = ChainHead.objects.filter(kind=TelehealthPolicy.CHAIN_KIND, key=_chain_key(clinic_id))
    return head.values_list("last_seq", flat=True).first() or 0


@transaction.atomic
def telehealth_policy_set(
    *, actor: Actor, period_id: str, bases: Sequence[str], reason: str, version: int | None
) -> TelehealthPolicy:
    """An administrator chooses the legal bases of a configurable period, with the reason.

    Refused when the period is not configurable, a basis is unknown or none is chosen, the
    reason is missing, or someone else changed the setting since the page was read (409).
    """
    actor.require(Permission.ATHOME_RULES_MANAGE)
    why = (reason or "").strip()
    if not why:
        raise Refused("Say why (the rule or decision behind it).", field="reason", code="required")
    chosen = tuple(dict.fromkeys(b.strip() for b in bases if b.strip()))
    rules = load_telehealth_rules()
    try:
        configure(rules, {period_id: chosen})
    except InvalidInput as error:
        field = "period_id" if error.field == "period" else "bases"
        code = "not_configurable" if field == "period_id" else "invalid_bases"
        raise Refused(str(error), field=field, code=code) from None
    key = _chain_key(actor.clinic_id)
    ChainHead.objects.get_or_create(kind=TelehealthPolicy.CHAIN_KIND, key=key)
    # the chain's head is the setting's version: locked, so two administrators at once cannot
    # both pass the check below
    head = ChainHead.objects.select_for_update().get(kind=TelehealthPolicy.CHAIN_KIND, key=key)
    ensure_version("telemedicine setting", seen=version, current=head.last_seq)
    row = chain_append(
        TelehealthPolicy,
        chain_key=key,
        values={
            "clinic_id": actor.clinic_id, "period_id": period_id, "bases": list(chosen),
            "reason": why[:2000], "set_by_id": actor.user.pk, "set_at": clock.now(),
        },
    )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.UPDATE, object_type="telehealth_policy",
        object_id=row.pk, detail={"period_id": period_id, "bases": list(chosen)},
    )  # fmt: skip
    return row
