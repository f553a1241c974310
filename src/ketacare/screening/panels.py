"""The screening's panel on the patient chart: the current screening per protocol."""

from typing import Any

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.patients.facts import facts_to_json
from ketacare.patients.panels import ChartPanel
from ketacare.patients.selectors import Chart
from ketacare.screening.selectors import screenings_current_of


def screening_panel_context(actor: Actor, chart: Chart) -> dict[str, Any]:
    """The patient's current screenings, each checked against the chart as it is now."""
    return {
        "screenings": screenings_current_of(
            patient=chart.patient, current=facts_to_json(chart.facts())
        )
    }


SCREENING_PANEL = ChartPanel(
    key="screening",
    place="summary",
    order=10,
    template="screening/_chart_panel.html",
    permission=Permission.CHART_VIEW,
    context=screening_panel_context,
    action=("Screening", "screening_patient"),
)
