"""The FHIR resource types KetaCare serves, and where each one's rows come from.

A resource type is read from one or more *sources*: a model, a base filter, and a function that
builds the FHIR JSON of a row. Observations, for example, come from session readings (one source
per vital sign), body measurements, scored rating scales and the chart's baseline vitals. A type
with several sources gives its ids a prefix naming the source (`hr-12`, `wt-3`), so a read goes
straight to one row. Search filters each source in the database where it can and, for a source
that expands one row into several resources (chart lists), on the built resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Expression, F, Model, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest

from ketacare.accounts.models import Clinic
from ketacare.accounts.permissions import Permission

Resource = dict[str, Any]
# (system or None, code) -> a filter for this source, or None when the source never has the code.
CodeFilter = Callable[[str | None, str], Q | None]
ValueFilter = Callable[[str], Q | None]

# Records of a 42 CFR Part 2 programme are the recovery app's rows (programmes, use calendar,
# withdrawal checks, drug screens, plans, consents and disclosures). Any resource built from one
# carries the Part 2 security labels of the HL7 DS4P guide: the 42CFRPart2 policy, restricted
# confidentiality and the obligation not to redisclose without consent (42 CFR 2.32); answers
# holding one also carry the notice (`PART2_NOTICE_HEADER`). Labelled here, where every resource
# is built, so a future source over these rows cannot leave unlabelled.
PART2_APPS = frozenset({"recovery"})
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PART2_SECURITY = (
    {"system": V3_ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {"system": V3_CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {
        "system": V3_ACT_CODE,
        "code": "NORDSCLCD",
        "display": "no redisclosure without consent directive",
    },
)
PART2_NOTICE_HEADER = "X-Redisclosure-Notice"


@dataclass(frozen=True)
class BuildContext:
    """What building a resource may need besides its row: the clinic and the server's base."""

    clinic: Clinic
    base_url: str = ""


@dataclass(frozen=True)
class Source:
    """One model a resource type is read from."""

    prefix: str
    model: type[Model]
    build: Callable[[Any, BuildContext], Resource | list[Resource]]
    base: Q = field(default_factory=Q)
    clinic_lookup: str = "clinic_id"
    patient_lookup: str | None = "patient_id"
    id_lookup: str = "pk"  # the column a resource id names (Practitioner ids are user ids)
    date_lookup: str | None = None
    updated: Expression | F | None = None
    related: tuple[str, ...] = ()
    code: CodeFilter | None = None
    status: ValueFilter | None = None
    category: CodeFilter | None = None
    expands: bool = False  # build returns a list (one row holds several resources)

    def queryset(self, clinic: Clinic) -> QuerySet[Any]:
        """This source's rows of one clinic, with what building needs loaded."""
        qs: QuerySet[Any] = self.model._default_manager.filter(
            self.base, **{self.clinic_lookup: clinic.pk}
        )
        if self.related:
            qs = qs.select_related(*self.related)
        annotated: QuerySet[Any] = qs.annotate(_fhir_updated=self.updated_expression())
        return annotated

    def updated_expression(self) -> Expression | F:
        """When a row last changed, as the database computes it (for `_lastUpdated`, `_since`)."""
        if self.updated is not None:
            return self.updated
        raise ValueError(f"source {self.prefix or self.model.__name__} has no updated column")

    def sort_lookup(self) -> str:
        return self.date_lookup or "_fhir_updated"


@dataclass(frozen=True)
class SearchParam:
    """A search parameter a type supports beyond the common ones: a name and its kind."""

    name: str
    # "reference" (patient), "date", "token", "string", "status", "category", or "fixed": a
    # token every resource of the type holds with one value (MedicationRequest.intent "order")
    kind: str
    lookup: str | None = None  # for "string" and "token" parameters filtered in the database
    value: str | None = None  # a "fixed" parameter's one value
    system: str | None = None  # the code system of a "fixed" parameter's codes
    codes: tuple[str, ...] = ()  # a "fixed" parameter's value set: any other code answers 400


@dataclass(frozen=True)
class Include:
    """An `_include` a type supports: the element holding the reference and the target type."""

    name: str  # e.g. "patient" in Observation:patient
    element: str  # the resource's element, e.g. "subject"
    target: str


@dataclass(frozen=True)
class ResourceType:
    """A FHIR resource type served by KetaCare."""

    name: str
    sources: tuple[Source, ...]
    permission: Permission
    params: tuple[SearchParam, ...] = ()
    includes: tuple[Include, ...] = ()
    profile: str | None = None
    documentation: str = ""
    clinic_scoped: bool = True
    # For types not stored per row (Questionnaire): the whole list, built from data.
    static: Callable[[BuildContext], list[Resource]] | None = None

    def param(self, name: str) -> SearchParam | None:
        return next((p for p in self.params if p.name == name), None)

    def source_for_id(self, resource_id: str) -> tuple[Source, str] | None:
        """The source and primary key an id names, or None when it names nothing."""
        for source in self.sources:
            if not source.prefix:
                return source, resource_id
            if resource_id.startswith(source.prefix + "-"):
                return source, resource_id[len(source.prefix) + 1 :]
        return None


# A resource whose patient is its `subject`: searched by `patient` or `subject`, and including
# that Patient under either name.
SUBJECT_PARAMS = (SearchParam("patient", "reference"), SearchParam("subject", "reference"))
SUBJECT_INCLUDES = (
    Include("patient", "subject", "Patient"),
    Include("subject", "subject", "Patient"),
)


def status_filter(mapping: dict[str, str], column: str = "status") -> ValueFilter:
    """A FHIR status search answered by the model values that map to it."""

    def matches(value: str) -> Q | None:
        values = [ours for ours, theirs in mapping.items() if theirs == value]
        return Q(**{f"{column}__in": values}) if values else None

    return matches


def latest(*columns: str) -> Expression:
    """The latest of a row's time columns (the first is never null), for `updated`."""
    base = columns[0]
    return Greatest(F(base), *(Coalesce(col, base) for col in columns[1:]))


REGISTRY: dict[str, ResourceType] = {}


def register(resource_type: ResourceType) -> ResourceType:
    """Add a resource type to the server (CapabilityStatement, read, search, export)."""
    REGISTRY[resource_type.name] = resource_type
    return resource_type


def resource_id(source: Source, pk: object, part: str | None = None) -> str:
    """The FHIR id of a row (and of one part of it, for rows that hold several resources)."""
    head = f"{source.prefix}-{pk}" if source.prefix else str(pk)
    return f"{head}-{part}" if part else head


def instant(value: datetime | date | None) -> str | None:
    """A FHIR instant/dateTime (UTC offset kept) or date, or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def meta(updated: datetime | None, profile: str | None = None) -> dict[str, Any]:
    """A resource's meta: when it last changed and the profile it claims."""
    out: dict[str, Any] = {}
    if updated is not None:
        out["lastUpdated"] = instant(updated)
    if profile:
        out["profile"] = [profile]
    return out


def reference(kind: str, pk: object, display: str | None = None) -> dict[str, str]:
    """A relative FHIR reference."""
    out = {"reference": f"{kind}/{pk}"}
    if display:
        out["display"] = display
    return out


def build_all(source: Source, rows: Iterable[Any], ctx: BuildContext) -> Iterator[Resource]:
    """Every resource the rows hold (several per row for expanding sources)."""
    part2 = source.model._meta.app_label in PART2_APPS
    for row in rows:
        built = source.build(row, ctx)
        for resource in built if isinstance(built, list) else [built]:
            yield part2_labelled(resource) if part2 else resource


def part2_labelled(resource: Resource) -> Resource:
    """The resource with the 42 CFR Part 2 security labels in its meta."""
    labels = resource.setdefault("meta", {}).setdefault("security", [])
    for label in PART2_SECURITY:
        if label not in labels:
            labels.append(dict(label))
    return resource


def carries_part2(body: Resource) -> bool:
    """Whether a resource, or any resource of a Bundle, is a labelled Part 2 record."""
    resources = [body, *(e.get("resource", {}) for e in body.get("entry", []))]
    return any(
        label.get("code") == "42CFRPart2"
        for resource in resources
        for label in resource.get("meta", {}).get("security", [])
    )
