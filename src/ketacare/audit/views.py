"""The clinic admin's view of the audit trail."""

from datetime import date

from django.http import HttpRequest, HttpResponse

from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.selectors import audit_entries_for_clinic
from ketacare.pagination import keyset_page
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


def _date_or_none(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@clinic_view(Permission.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    """Browse and filter the clinic's audit entries, newest first."""
    filters = {
        "username": request.GET.get("user", "")[:150],
        "action": request.GET.get("action", "")
        if request.GET.get("action") in AuditAction.values
        else "",
        "patient_id": _int_or_none(request.GET.get("patient", "")),
        "since": _date_or_none(request.GET.get("since", "")),
        "until": _date_or_none(request.GET.get("until", "")),
    }
    entries = audit_entries_for_clinic(actor=actor_of(request), **filters)  # type: ignore[arg-type]
    # Keyset pages: the thousandth page costs what the first does, and nothing counts the trail.
    page = keyset_page(
        entries, keys=("at", "seq"), cursor=request.GET.get("after"), size=100, descending=True
    )
    return render_page(
        request,
        "audit/list.html",
        {"page": page, "filters": request.GET, "actions": AuditAction.choices},
        partial="audit/_rows.html",
    )
