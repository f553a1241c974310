"""Which tables hold a clinic's data, and each row as canonical JSON.

Discovery is generic, so a new app's models are carried without a change here: every KetaCare
model with a foreign key to `Clinic` is the clinic's (filtered by it), the audit tables are
filtered by their clinic id and chain key, users are those the clinic's rows name, and
many-to-many tables follow their owner. `EXCLUDED` names what is deliberately left behind and
why; a test fails when a model with clinic data is neither carried nor excluded.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

from ketacare.accounts.models import Clinic, User

# Models holding clinic data that the archive leaves out, and why.
EXCLUDED: dict[str, str] = {
    "accounts.apitoken": "credentials: the new system issues its own API tokens",
    "accounts.signingpin": "credentials: each user sets a new signing PIN on the new system",
    "fhir.tokenscope": "scopes of the API tokens that are not carried",
    "fhir.exportjob": "transient Bulk Data jobs, whose files expire",
    "fhir.exportfile": "transient Bulk Data files, which expire",
}
# Models with no clinic data at all (shared infrastructure).
GLOBAL: dict[str, str] = {
    "outcomes.portalratecount": "request counters per address, no patient data",
    # Django's admin groups and permissions of users: KetaCare's roles live in memberships.
    "accounts.user_groups": "Django admin groups, not used for KetaCare roles",
    "accounts.user_user_permissions": "Django admin permissions, not used for KetaCare roles",
}


@dataclass(frozen=True)
class Table:
    """One table of the archive: its model and how to select the clinic's rows."""

    label: str
    model: type[models.Model]
    select: Callable[[Clinic, set[int]], models.QuerySet[Any]]

    def rows(self, clinic: Clinic, user_ids: set[int]) -> models.QuerySet[Any]:
        return self.select(clinic, user_ids).order_by("pk")


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _clinic_fk(model: type[models.Model]) -> models.Field[Any, Any] | None:
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is Clinic:
            return field
    return None


def ketacare_models() -> list[type[models.Model]]:
    """Every concrete model of KetaCare's own apps (auto-created M2M tables included)."""
    out = []
    for config in apps.get_app_configs():
        if not config.name.startswith("ketacare."):
            continue
        for model in config.get_models(include_auto_created=True):
            if not model._meta.proxy and model._meta.managed:
                out.append(model)
    return out


def _chain_heads(clinic: Clinic) -> models.QuerySet[Any]:
    """The heads of every chain the clinic's chained records (audit, ledger, ...) belong to."""
    from ketacare.audit.chained import chained_models
    from ketacare.audit.models import AuditEntry, ChainHead

    wanted = models.Q(pk__in=[])
    for model in chained_models():
        rows: models.QuerySet[Any]
        if model is AuditEntry:
            rows = AuditEntry.objects.filter(clinic_id=clinic.pk)
        else:
            field = _clinic_fk(model)
            if field is None:
                continue
            rows = model._default_manager.filter(**{field.attname: clinic.pk})
        keys = rows.values("chain_key").distinct()
        wanted |= models.Q(kind=model.CHAIN_KIND, key__in=keys)
    return ChainHead.objects.filter(wanted)


def _special(label: str) -> Callable[[Clinic, set[int]], models.QuerySet[Any]] | None:
    from ketacare.audit.models import AuditEntry

    specials: dict[str, Callable[[Clinic, set[int]], models.QuerySet[Any]]] = {
        "accounts.clinic": lambda c, _: Clinic.objects.filter(pk=c.pk),
        "accounts.user": lambda c, users: User.objects.filter(pk__in=users),
        "audit.auditentry": lambda c, _: AuditEntry.objects.filter(clinic_id=c.pk),
        "audit.chainhead": lambda c, _: _chain_heads(c),
    }
    return specials.get(label)


def _clinic_select(
    model: type[models.Model], attname: str
) -> Callable[[Clinic, set[int]], models.QuerySet[Any]]:
    def select(clinic: Clinic, _: set[int]) -> models.QuerySet[Any]:
        return model._default_manager.filter(**{attname: clinic.pk})

    return select


def _through_select(
    model: type[models.Model], owner: type[models.Model], owner_field: str
) -> Callable[[Clinic, set[int]], models.QuerySet[Any]]:
    clinic_field = _clinic_fk(owner)
    if clinic_field is None:
        raise ValueError(f"{owner} has no clinic")

    def select(clinic: Clinic, _: set[int]) -> models.QuerySet[Any]:
        owners = owner._default_manager.filter(**{clinic_field.attname: clinic.pk}).values("pk")
        return model._default_manager.filter(**{f"{owner_field}__in": owners})

    return select


def clinic_tables() -> list[Table]:
    """Every table the archive carries, in a stable order (users and the clinic first)."""
    tables: list[Table] = []
    for model in ketacare_models():
        label = _label(model)
        if label in EXCLUDED or label in GLOBAL:
            continue
        special = _special(label)
        if special is not None:
            tables.append(Table(label, model, special))
            continue
        clinic_field = _clinic_fk(model)
        if clinic_field is not None:
            tables.append(Table(label, model, _clinic_select(model, clinic_field.attname)))
            continue
        owner: Any = model._meta.auto_created  # the owning model, for a many-to-many table
        if owner and _clinic_fk(owner) is not None:
            owner_fk = next(
                f for f in model._meta.concrete_fields if f.is_relation and f.related_model is owner
            )
            tables.append(Table(label, model, _through_select(model, owner, owner_fk.name)))
    first = {"accounts.user": 0, "accounts.clinic": 1}
    return sorted(tables, key=lambda t: (first.get(t.label, 2), t.label))


def uncovered_models() -> list[str]:
    """Models of KetaCare's apps that are neither carried, excluded nor declared global."""
    carried = {t.label for t in clinic_tables()}
    return sorted(
        _label(m)
        for m in ketacare_models()
        if _label(m) not in carried and _label(m) not in EXCLUDED and _label(m) not in GLOBAL
    )


def referenced_user_ids(clinic: Clinic, tables: list[Table]) -> set[int]:
    """Users a clinic's rows name (who did what), plus its members."""
    users: set[int] = set()
    for table in tables:
        if table.label in {"accounts.user", "accounts.clinic"}:
            continue
        user_fields = [
            f.attname
            for f in table.model._meta.concrete_fields
            if f.is_relation and f.related_model is User
        ]
        if not user_fields:
            continue
        for values in table.select(clinic, set()).values_list(*user_fields).iterator():
            users.update(v for v in values if v is not None)
    return users


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def row_json(row: models.Model) -> dict[str, Any]:
    """A row as plain JSON values, by column (attname), primary key included."""
    return {f.attname: _plain(getattr(row, f.attname)) for f in row._meta.concrete_fields}


def canonical_line(data: dict[str, Any]) -> bytes:
    """One row as the canonical JSON line the archive stores and hashes."""
    return (
        json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        + "\n"
    ).encode()


def table_lines(table: Table, clinic: Clinic, user_ids: set[int]) -> Iterator[bytes]:
    """The table's rows of the clinic as canonical lines, in primary-key order."""
    for row in table.rows(clinic, user_ids).iterator(chunk_size=2000):
        yield canonical_line(row_json(row))


def digest(lines: Iterator[bytes]) -> tuple[int, str]:
    """Count and SHA-256 of a stream of lines."""
    sha = hashlib.sha256()
    count = 0
    for line in lines:
        sha.update(line)
        count += 1
    return count, sha.hexdigest()
