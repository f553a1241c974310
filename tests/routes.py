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
PUBLIC_PAGES = {
    "login",
    "logout",
    "switch_clinic",
    "healthz",
    "schedule_feed",
    # The second factor's own pages: any signed-in user, before any clinic permission applies.
    "mfa_enrol",
    "mfa_verify",
    "api_docs",
}
# Mounted applications with their own access control (superuser-only admin) or no patient data;
# the FHIR base has its own walk (bearer tokens, OperationOutcomes) in test_route_walk.py.
SKIPPED_PREFIXES = ("admin/", "api/v1/", "static/", "portal/", "fhir/r4/")


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


# One factory per kind of path parameter: given a clinic, one of its patients and its staff
# (role name -> User), make a record of that clinic and return its id. Each app adds its own.
PathValueFactory = Callable[[Any, Any, dict[str, Any]], int | str]
PATH_VALUE_FACTORIES: dict[str, PathValueFactory] = {
    "patient_id": lambda clinic, patient, staff: patient.pk,
}


def _register_app_factories() -> None:
    """Pull in each app's `tests/<app>/path_values.py` (a `FACTORIES` dict), if it has one."""
    from importlib import import_module

    for app in (
        "accounts",
        "patients",
        "screening",
        "consent",
        "scheduling",
        "ledger",
        "rems",
        "treatment",
        "outcomes",
        "fhir",
        "athome",
    ):
        try:
            module = import_module(f"tests.{app}.path_values")
        except ModuleNotFoundError:
            continue
        PATH_VALUE_FACTORIES.update(module.FACTORIES)


_register_app_factories()


def _values_for(
    world: Any, clinic: Any, patient: Any, staff: dict[str, Any]
) -> dict[str, int | str]:
    return {name: make(clinic, patient, staff) for name, make in PATH_VALUE_FACTORIES.items()}


def path_values(world: Any) -> dict[str, int | str]:
    """One clinic-A record for each kind of path parameter (made once per test)."""
    if not hasattr(world, "_path_values"):
        world._path_values = _values_for(world, world.clinic_a, world.patient_a, world.staff)
    return world._path_values  # type: ignore[no-any-return]


def outsider_path_values(world: Any) -> dict[str, int | str]:
    """The same kinds of ids, pointing at clinic B's records."""
    if not hasattr(world, "_outsider_path_values"):
        world._outsider_path_values = _values_for(
            world, world.clinic_b, world.patient_b, world.outsiders
        )
    return world._outsider_path_values  # type: ignore[no-any-return]
