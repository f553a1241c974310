"""FHIR reads: one resource or one page of a search, scoped to the actor's clinic and audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import hash_token
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.fhir.models import TokenScope
from ketacare.fhir.registry import REGISTRY, BuildContext, Resource, ResourceType, build_all
from ketacare.fhir.scopes import DEFAULT_SCOPES, Scopes, parse_scopes
from ketacare.fhir.search import Criteria, Page, parse, search, source_queryset
from ketacare.kernel.clinic_time import clinic_zone


def scopes_for_token(raw_token: str) -> Scopes:
    """The scopes an API token carries (`user/*.read` when it was given none)."""
    row = TokenScope.objects.filter(token__key_hash=hash_token(raw_token)).first()
    return parse_scopes(row.scopes if row else DEFAULT_SCOPES)


def resource_type_for(name: str) -> ResourceType:
    """A served resource type, or 404."""
    resource_type = REGISTRY.get(name)
    if resource_type is None:
        raise Http404(f"Resource type '{name}' is not served here.")
    return resource_type


def authorize(actor: Actor, scopes: Scopes, resource_type: ResourceType) -> None:
    """Refuse (403) unless both the role and a scope allow reading the type."""
    actor.require(resource_type.permission)
    if not scopes.allows_read(resource_type.name):
        raise PermissionDenied(f"The token's scopes do not cover reading {resource_type.name}.")


def patient_of(resource: Resource) -> int | None:
    """The patient a resource is about, from its own id or its subject/patient reference."""
    if resource["resourceType"] == "Patient":
        return int(resource["id"])
    for element in ("subject", "patient"):
        ref = (resource.get(element) or {}).get("reference", "")
        if ref.startswith("Patient/"):
            return int(ref.removeprefix("Patient/"))
    for participant in resource.get("participant", []):
        ref = (participant.get("actor") or {}).get("reference", "")
        if ref.startswith("Patient/"):
            return int(ref.removeprefix("Patient/"))
    return None


def _find(resource_type: ResourceType, resource_id: str, ctx: BuildContext) -> Resource | None:
    if resource_type.static is not None:
        return next((r for r in resource_type.static(ctx) if r["id"] == resource_id), None)
    located = resource_type.source_for_id(resource_id)
    if located is None:
        return None
    source, _ = located
    qs = source_queryset(source, Criteria(ids=[resource_id]), ctx)
    if qs is None:
        return None
    for row in qs[:2]:
        for resource in build_all(source, [row], ctx):
            if resource["id"] == resource_id:
                return resource
    return None


def fhir_read(
    *, actor: Actor, scopes: Scopes, type_name: str, resource_id: str, ctx: BuildContext
) -> Resource:
    """One resource of the actor's clinic; another clinic's (or none) is 404. Audited."""
    resource_type = resource_type_for(type_name)
    authorize(actor, scopes, resource_type)
    resource = _find(resource_type, resource_id, ctx)
    if resource is None:
        raise Http404(f"{type_name}/{resource_id} is not known.")
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type=f"fhir:{type_name}",
        object_id=resource_id,
        patient_id=patient_of(resource),
    )
    return resource


def fhir_search(
    *,
    actor: Actor,
    scopes: Scopes,
    type_name: str,
    query: dict[str, list[str]],
    ctx: BuildContext,
) -> tuple[Page, list[Resource], Criteria]:
    """One page of a search and its `_include`d resources. Audited with every id returned."""
    resource_type = resource_type_for(type_name)
    authorize(actor, scopes, resource_type)
    criteria = parse(resource_type, query, clinic_zone(ctx.clinic))
    page = search(resource_type, criteria, ctx)
    included = _includes(actor, scopes, resource_type, criteria, page.resources, ctx)
    patients = sorted({p for r in [*page.resources, *included] if (p := patient_of(r)) is not None})
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type=f"fhir:{type_name}",
        detail={
            "query": dict(sorted(query.items())),
            "ids": [r["id"] for r in page.resources],
            "included": [f"{r['resourceType']}/{r['id']}" for r in included],
            "patient_ids": patients,
            "total": page.total,
        },
    )
    return page, included, criteria


def _references(resource: Resource, path: str) -> list[str]:
    values: list[Any] = [resource]
    for part in path.split("."):
        nxt: list[Any] = []
        for value in values:
            item = value.get(part) if isinstance(value, dict) else None
            if isinstance(item, list):
                nxt.extend(item)
            elif item is not None:
                nxt.append(item)
        values = nxt
    return [v["reference"] for v in values if isinstance(v, dict) and "reference" in v]


def _includes(
    actor: Actor,
    scopes: Scopes,
    resource_type: ResourceType,
    criteria: Criteria,
    resources: list[Resource],
    ctx: BuildContext,
) -> list[Resource]:
    out: list[Resource] = []
    seen: set[str] = set()
    for name in criteria.includes:
        spec = next(i for i in resource_type.includes if i.name == name)
        target = REGISTRY[spec.target]
        # An include the actor may not read is left out, never an error that leaks existence.
        if not (actor.can(target.permission) and scopes.allows_read(target.name)):
            continue
        for resource in resources:
            for ref in _references(resource, spec.element):
                kind, _, rid = ref.partition("/")
                if kind != spec.target or ref in seen:
                    continue
                seen.add(ref)
                found = _find(target, rid, ctx)
                if found is not None:
                    out.append(found)
    return out
