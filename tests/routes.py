"""Every page and API route, enumerated from the URL map and the OpenAPI document.

The walking tests fill path parameters from `path_values`, which names one record of
clinic A for each kind of id. A new route with a new kind of id fails the walk until
its id is added here, so no route escapes the permission and tenancy checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

# Pages anyone may reach, or that check membership themselves.
PUBLIC_PAGES = {"login", "logout", "switch_clinic", "healthz"}
# Mounted applications with their own access control (superuser-only admin) or no patient data.
SKIPPED_PREFIXES = ("admin/", "api/v1/", "static/", "portal/")


@dataclass(frozen=True)
class PageRoute:
    """One named page of the staff web app."""

    name: str
    pattern: str
    view: Callable[..., Any]
    parameters: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def page_routes() -> list[PageRoute]:
    """Every named staff page outside the skipped prefixes."""
    routes = []
    for pattern, entry in _walk(get_resolver().url_patterns):
        if pattern.startswith(SKIPPED_PREFIXES) or not entry.name:
            continue
        parameters = (
            tuple(entry.pattern.converters.keys()) if hasattr(entry.pattern, "converters") else ()
        )
        routes.append(PageRoute(entry.name, pattern, entry.callback, parameters))
    return routes


def path_values(world: Any) -> dict[str, int | str]:
    """One clinic-A record for each kind of path parameter."""
    values: dict[str, int | str] = {"patient_id": world.patient_a.pk}
    values.update(getattr(world, "extra_path_values", {}))
    return values


def outsider_path_values(world: Any) -> dict[str, int | str]:
    """The same kinds of ids, pointing at clinic B's records."""
    values: dict[str, int | str] = {"patient_id": world.patient_b.pk}
    values.update(getattr(world, "extra_outsider_path_values", {}))
    return values
