"""FHIR search: parse the parameters a type supports, filter each source, page the result.

An unknown or malformed parameter raises `SearchError` (400 with an OperationOutcome), never
a silent full list. Dates take the FHIR prefixes eq, gt, lt, ge, le, sa and eb at year, month,
day or instant precision (dates without a time are days in the clinic's time zone).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from ketacare.fhir.registry import (
    BuildContext,
    Resource,
    ResourceType,
    SearchParam,
    Source,
    build_all,
)

DEFAULT_COUNT = 50
MAX_COUNT = 500
MAX_OFFSET = 1_000_000
# Parameters every type takes; `_offset` is how this server's paging links move on.
# `_total` and fhirpy's `_totalMethod` are accepted and ignored: the total is always given.
COMMON = {
    "_id",
    "_lastUpdated",
    "_count",
    "_offset",
    "_include",
    "_format",
    "_total",
    "_totalMethod",
}
DATE_PREFIXES = ("eq", "gt", "lt", "ge", "le", "sa", "eb")
DATE_PATTERN = re.compile(r"^(\d{4})(-(\d{2})(-(\d{2})(T.+)?)?)?$")
ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class SearchError(Exception):
    """A search parameter this server does not support or cannot read (answered with 400)."""

    def __init__(self, message: str, *, parameter: str) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter


@dataclass(frozen=True)
class Window:
    """A half-open interval of instants [start, end) that a date value stands for."""

    start: datetime
    end: datetime


@dataclass
class Criteria:
    """A parsed search: database filters per concern, post-filters on the built resources."""

    ids: list[str] = field(default_factory=list)
    patient_ids: list[str] | None = None
    dates: list[tuple[str, Window]] = field(default_factory=list)
    updated: list[tuple[str, Window]] = field(default_factory=list)
    codes: list[tuple[str | None, str]] | None = None
    statuses: list[str] | None = None
    categories: list[tuple[str | None, str]] | None = None
    strings: list[tuple[str, str]] = field(default_factory=list)
    # a "fixed" parameter asked for a code the type never holds: nothing matches
    fixed_mismatch: bool = False
    count: int = DEFAULT_COUNT
    offset: int = 0
    includes: list[str] = field(default_factory=list)


def parse_date(value: str, tz: ZoneInfo, parameter: str) -> Window:
    """The instants a FHIR date search value covers, at its own precision."""
    match = DATE_PATTERN.match(value)
    if not match:
        raise SearchError(f"'{value}' is not a FHIR date", parameter=parameter)
    year, month, day, rest = match.group(1), match.group(3), match.group(5), match.group(6)
    try:
        if rest:
            moment = parse_datetime(value)
            if moment is None or moment.tzinfo is None:
                raise ValueError("a time needs its offset")
            return Window(moment, moment + timedelta(seconds=1))
        if day:
            start_day = date(int(year), int(month), int(day))
            end_day = start_day + timedelta(days=1)
        elif month:
            start_day = date(int(year), int(month), 1)
            end_day = date(int(year) + (int(month) == 12), int(month) % 12 + 1, 1)
        else:
            start_day = date(int(year), 1, 1)
            end_day = date(int(year) + 1, 1, 1)
        if not 1900 <= start_day.year <= 2200:
            raise ValueError("outside 1900-2200")
    except ValueError as error:
        raise SearchError(f"'{value}' is not a valid date: {error}", parameter=parameter) from None
    return Window(
        datetime.combine(start_day, time.min, tzinfo=tz),
        datetime.combine(end_day, time.min, tzinfo=tz),
    )


def _date_value(raw: str, tz: ZoneInfo, parameter: str) -> tuple[str, Window]:
    prefix = raw[:2] if raw[:2].isalpha() else "eq"
    if raw[:2].isalpha() and prefix not in DATE_PREFIXES:
        raise SearchError(
            f"date prefix '{prefix}' is not supported (use {', '.join(DATE_PREFIXES)})",
            parameter=parameter,
        )
    value = raw[2:] if raw[:2].isalpha() else raw
    return prefix, parse_date(value, tz, parameter)


def _token(raw: str) -> tuple[str | None, str]:
    if "|" in raw:
        system, _, code = raw.partition("|")
        return (system or None), code
    return None, raw


def _split(raw: str) -> list[str]:
    return [part for part in raw.split(",") if part]


def parse(resource_type: ResourceType, query: dict[str, list[str]], tz: ZoneInfo) -> Criteria:
    """Read a query string into criteria; anything unsupported raises `SearchError`."""
    criteria = Criteria()
    for name, values in query.items():
        base, _, modifier = name.partition(":")
        if modifier and not (base == "_include"):
            raise SearchError(f"modifier ':{modifier}' is not supported", parameter=name)
        for raw in values:
            _apply(resource_type, criteria, base, raw, tz)
    return criteria


def _apply(
    resource_type: ResourceType, criteria: Criteria, name: str, raw: str, tz: ZoneInfo
) -> None:
    if name == "_format":
        if raw not in {"json", "application/json", "application/fhir+json"}:
            raise SearchError("only JSON is served", parameter=name)
        return
    if name in {"_total", "_totalMethod"}:
        return  # the total is always given
    if name == "_id":
        ids = _split(raw)
        if not ids or not all(ID_PATTERN.match(i) for i in ids):
            raise SearchError("not a FHIR id", parameter=name)
        criteria.ids.extend(ids)
        return
    if name in {"_count", "_offset"}:
        if not raw.isdigit() or len(raw) > 9:
            raise SearchError("must be a whole number", parameter=name)
        number = int(raw)
        if name == "_count":
            criteria.count = min(number, MAX_COUNT)
        elif number > MAX_OFFSET:
            raise SearchError(f"at most {MAX_OFFSET}", parameter=name)
        else:
            criteria.offset = number
        return
    if name == "_lastUpdated":
        criteria.updated.append(_date_value(raw, tz, name))
        return
    if name == "_include":
        source_type, _, target = raw.partition(":")
        target = target.split(":")[0]
        known = {i.name for i in resource_type.includes}
        if source_type != resource_type.name or target not in known:
            raise SearchError(
                f"_include '{raw}' is not supported; supported: "
                + (", ".join(f"{resource_type.name}:{n}" for n in sorted(known)) or "none"),
                parameter=name,
            )
        criteria.includes.append(target)
        return
    param = resource_type.param(name)
    if param is None:
        supported = sorted(COMMON | {p.name for p in resource_type.params})
        raise SearchError(
            f"unknown search parameter '{name}' for {resource_type.name}; "
            f"supported: {', '.join(supported)}",
            parameter=name,
        )
    if param.kind == "reference":
        ids = []
        for value in _split(raw):
            kind, _, pk = value.rpartition("/")
            if kind not in {"", "Patient"} or not pk.isdigit() or len(pk) > 18:
                raise SearchError(f"'{value}' is not a Patient reference", parameter=name)
            ids.append(pk)
        criteria.patient_ids = (
            ids if criteria.patient_ids is None else [i for i in criteria.patient_ids if i in ids]
        )
    elif param.kind == "date":
        criteria.dates.append(_date_value(raw, tz, name))
    elif param.kind == "token":
        tokens = [_token(v) for v in _split(raw)]
        if not tokens:
            raise SearchError("empty code", parameter=name)
        criteria.codes = (criteria.codes or []) + tokens
    elif param.kind == "status":
        criteria.statuses = (criteria.statuses or []) + _split(raw)
    elif param.kind == "category":
        criteria.categories = (criteria.categories or []) + [_token(v) for v in _split(raw)]
    elif param.kind == "fixed":
        _apply_fixed(param, criteria, name, raw)
    elif param.kind == "string":
        if len(raw) > 100:
            raise SearchError("at most 100 characters", parameter=name)
        criteria.strings.append((param.lookup or name, raw))


def _apply_fixed(param: SearchParam, criteria: Criteria, name: str, raw: str) -> None:
    """A token every resource of the type holds with one value: match it or match nothing."""
    tokens = [_token(v) for v in _split(raw)]
    if not tokens:
        raise SearchError("empty code", parameter=name)
    for system, code in tokens:
        if system is not None and system != param.system:
            raise SearchError(f"the system of '{name}' is {param.system}", parameter=name)
        if code not in param.codes:
            raise SearchError(
                f"'{code}' is not a code of '{name}'; codes: {', '.join(param.codes)}",
                parameter=name,
            )
    if all(code != param.value for _, code in tokens):
        criteria.fixed_mismatch = True


# --- filtering ----------------------------------------------------------------------------------


def _window_q(lookup: str, prefix: str, window: Window, is_date: bool) -> Q:
    start: date | datetime = window.start.date() if is_date else window.start
    end: date | datetime = window.end.date() if is_date else window.end
    if is_date and window.end - window.start < timedelta(days=1):
        end = start + timedelta(days=1)  # an instant searched against a date field
    if prefix == "eq":
        return Q(**{f"{lookup}__gte": start, f"{lookup}__lt": end})
    if prefix in {"gt", "sa"}:
        return Q(**{f"{lookup}__gte": end})
    if prefix in {"lt", "eb"}:
        return Q(**{f"{lookup}__lt": start})
    if prefix == "ge":
        return Q(**{f"{lookup}__gte": start})
    return Q(**{f"{lookup}__lt": end})  # le


def _is_date_field(source: Source, lookup: str) -> bool:
    from django.db.models import DateField, DateTimeField

    if lookup.startswith("_"):
        return False
    model = source.model
    parts = lookup.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model  # type: ignore[assignment]
    fld = model._meta.get_field(parts[-1])
    return isinstance(fld, DateField) and not isinstance(fld, DateTimeField)


def _any(filters: list[Q | None]) -> Q | None:
    """OR of the filters a source can match; None when it can match none of them."""
    matched = [f for f in filters if f is not None]
    if not matched:
        return None
    combined = matched[0]
    for extra in matched[1:]:
        combined |= extra
    return combined


def source_queryset(source: Source, criteria: Criteria, ctx: BuildContext) -> QuerySet[Any] | None:
    """The source's rows matching the criteria the database can check; None if none can match."""
    if criteria.fixed_mismatch:
        return None
    qs = source.queryset(ctx.clinic)
    if criteria.ids:
        pks = []
        for rid in criteria.ids:
            head = rid if not source.prefix else rid.removeprefix(source.prefix + "-")
            if source.prefix and head == rid:
                continue
            pk = head.split("-")[0]
            if pk.isdigit() and len(pk) <= 18:
                pks.append(int(pk))
        if not pks:
            return None
        qs = qs.filter(**{f"{source.id_lookup}__in": pks})
    if criteria.patient_ids is not None:
        if source.patient_lookup is None:
            return None
        qs = qs.filter(**{f"{source.patient_lookup}__in": criteria.patient_ids})
    for prefix, window in criteria.dates:
        if source.date_lookup is None:
            return None
        qs = qs.filter(
            _window_q(
                source.date_lookup, prefix, window, _is_date_field(source, source.date_lookup)
            )
        )
    for prefix, window in criteria.updated:
        qs = qs.filter(_window_q("_fhir_updated", prefix, window, False))
    for lookup, value in criteria.strings:
        qs = qs.filter(_string_q(lookup, value))
    filters: list[Q | None] = []
    if criteria.codes is not None and source.code is not None:
        filters.append(_any([source.code(s, c) for s, c in criteria.codes]))
    if criteria.categories is not None and source.category is not None:
        filters.append(_any([source.category(s, c) for s, c in criteria.categories]))
    if criteria.statuses is not None and source.status is not None:
        filters.append(_any([source.status(v) for v in criteria.statuses]))
    for combined in filters:
        if combined is None:
            return None
        qs = qs.filter(combined)
    return qs


def _string_q(lookup: str, value: str) -> Q:
    q = Q()
    for part in lookup.split("|"):
        q |= Q(**{f"{part}__istartswith": value})
    return q


def _codings(element: Any) -> Iterator[tuple[str | None, str]]:
    if isinstance(element, list):
        for item in element:
            yield from _codings(item)
    elif isinstance(element, dict):
        for c in element.get("coding", []):
            yield c.get("system"), c.get("code")


def _token_matches(element: Any, wanted: list[tuple[str | None, str]]) -> bool:
    have = list(_codings(element))
    return any(
        (system is None or system == h_system) and code == h_code
        for system, code in wanted
        for h_system, h_code in have
    )


def resource_matches(resource: Resource, criteria: Criteria, resource_type: ResourceType) -> bool:
    """Checks on a built resource (expanding sources, and ids that name one part of a row)."""
    if criteria.fixed_mismatch:
        return False
    if criteria.ids and resource["id"] not in criteria.ids:
        return False
    if criteria.codes is not None and not _token_matches(resource.get("code"), criteria.codes):
        return False
    if criteria.categories is not None and not _token_matches(
        resource.get("category"), criteria.categories
    ):
        return False
    if criteria.statuses is not None:
        status = resource.get("status") or _clinical_status(resource)
        if status not in criteria.statuses:
            return False
    return True


def _clinical_status(resource: Resource) -> str | None:
    return next((code for _, code in _codings(resource.get("clinicalStatus"))), None)


@dataclass(frozen=True)
class Page:
    """One page of a search: the matching resources, the total, and where the page starts."""

    resources: list[Resource]
    total: int
    offset: int
    count: int


def _sort_key(row: Any, source: Source, order: int) -> tuple[Any, ...]:
    value = getattr_path(row, source.sort_lookup())
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=ZoneInfo("UTC"))
    return (value is None, value or datetime.min.replace(tzinfo=ZoneInfo("UTC")), order, row.pk)


def getattr_path(row: Any, lookup: str) -> Any:
    value = row
    for part in lookup.split("__"):
        if part.endswith("_id") and hasattr(value, part):
            value = getattr(value, part)
            continue
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def search(resource_type: ResourceType, criteria: Criteria, ctx: BuildContext) -> Page:
    """One page of matching resources, sorted by date then source then id."""
    if resource_type.static is not None:
        matched = [
            r for r in resource_type.static(ctx) if resource_matches(r, criteria, resource_type)
        ]
        window = matched[criteria.offset : criteria.offset + criteria.count]
        return Page(window, len(matched), criteria.offset, criteria.count)
    querysets = [
        (order, source, qs)
        for order, source in enumerate(resource_type.sources)
        if (qs := source_queryset(source, criteria, ctx)) is not None
    ]
    post_filter = any(source.expands for _, source, _ in querysets) or any(
        "-" in rid.removeprefix(s.prefix + "-")
        for rid in criteria.ids
        for s in resource_type.sources
    )
    if post_filter or (
        (
            criteria.codes is not None
            or criteria.statuses is not None
            or criteria.categories is not None
        )
        and any(
            (criteria.codes is not None and s.code is None)
            or (criteria.statuses is not None and s.status is None)
            or (criteria.categories is not None and s.category is None)
            for _, s, _ in querysets
        )
    ):
        return _search_in_memory(resource_type, criteria, ctx, querysets)
    total = sum(qs.count() for _, _, qs in querysets)
    end = criteria.offset + criteria.count
    streams = []
    for order, source, qs in querysets:
        rows = list(qs.order_by(source.sort_lookup(), "pk")[:end])
        streams.append([(_sort_key(row, source, order), row, source) for row in rows])
    merged = list(heapq.merge(*streams, key=lambda item: item[0]))[criteria.offset : end]
    resources = [r for _, row, source in merged for r in build_all(source, [row], ctx)]
    return Page(resources, total, criteria.offset, criteria.count)


def _search_in_memory(
    resource_type: ResourceType,
    criteria: Criteria,
    ctx: BuildContext,
    querysets: list[tuple[int, Source, QuerySet[Any]]],
) -> Page:
    keyed: list[tuple[tuple[Any, ...], int, Resource]] = []
    for order, source, qs in querysets:
        for row in qs.order_by(source.sort_lookup(), "pk").iterator(chunk_size=2000):
            key = _sort_key(row, source, order)
            for index, resource in enumerate(build_all(source, [row], ctx)):
                if resource_matches(resource, criteria, resource_type):
                    keyed.append((key, index, resource))
    keyed.sort(key=lambda item: (item[0], item[1]))
    window = keyed[criteria.offset : criteria.offset + criteria.count]
    return Page([r for _, _, r in window], len(keyed), criteria.offset, criteria.count)
