"""The consent panel on the patient chart: each route's consent state."""

from typing import Any

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.consent.selectors import consent_routes_of
from ketacare.patients.panels import ChartPanel
from ketacare.patients.selectors import Chart


def consent_panel_context(actor: Actor, chart: Chart) -> dict[str, Any]:
    """Each route with a published consent text, and whether the patient has signed it."""
    routes = consent_routes_of(patient=chart.patient)
    return {"consents": [rc for rc in routes if rc.state != "none_published"]}


CONSENT_PANEL = ChartPanel(
    key="consent",
    place="summary",
    order=20,
    template="consent/_chart_panel.html",
    permission=Permission.CONSENT_VIEW,
    context=consent_panel_context,
    action=("Consent", "consent_patient"),
)
