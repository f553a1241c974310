"""Panels of the patient chart that apps above patients contribute.

The chart page shows screening, consent, courses, sessions and outcomes, but `patients` imports
none of those apps: each registers a `ChartPanel` in its `AppConfig.ready()`, and the chart page
renders the registered panels the actor may see, in order. A panel either brings its data in the
chart's own request (`context`) or loads itself with htmx (its template holds an `hx-get` to its
app's own fragment; see `web/_lazy_panel.html`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.patients.selectors import Chart

# "summary": the short cards at the top of the chart; "sections": after the chart's own sections.
Place = Literal["summary", "sections"]
PanelContext = Callable[[Actor, Chart], dict[str, Any]]


@dataclass(frozen=True)
class ChartPanel:
    """A section of the patient chart contributed by a higher app."""

    key: str
    place: Place
    order: int
    template: str
    # Shown only to roles holding this permission (None: the template decides what to show).
    permission: Permission | None = None
    # Reads the panel's data in the chart's request; None for panels that load themselves.
    context: PanelContext | None = None
    # A button in the chart's header: (label, URL name taking the patient id).
    action: tuple[str, str] | None = None


@dataclass(frozen=True)
class RenderedPanel:
    """A panel with the data it reads, ready for the chart template."""

    panel: ChartPanel
    data: dict[str, Any]


_PANELS: dict[str, ChartPanel] = {}


def chart_panel_register(panel: ChartPanel) -> None:
    """Add (or replace, by key) a panel of the patient chart; called from `AppConfig.ready()`."""
    _PANELS[panel.key] = panel


def chart_panels_for(*, actor: Actor, chart: Chart) -> dict[str, list[RenderedPanel]]:
    """The panels the actor may see, by place, in order, each with its data read."""
    placed: dict[str, list[RenderedPanel]] = {"summary": [], "sections": [], "actions": []}
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        if panel.permission is not None and not actor.can(panel.permission):
            continue
        data = panel.context(actor, chart) if panel.context else {}
        placed[panel.place].append(RenderedPanel(panel=panel, data=data))
        if panel.action:
            placed["actions"].append(RenderedPanel(panel=panel, data={}))
    return placed
