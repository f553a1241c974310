"""The clinic admin's view of the audit trail."""

from django.http import HttpRequest, HttpResponse

from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.selectors import audit_entries_for_clinic
from ketacare.kernel.bounds import BIGINT_MAX, query_date, query_int
from ketacare.pagination import keyset_page
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


@clinic_view(Permission.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    """Browse and filter the clinic's audit entries, newest first."""
    filters = {
        "username": request.GET.get("user", "")[:150],
        "action": request.GET.get("action", "")
        if request.GET.get("action") in AuditAction.values
        else "",
        "patient_id": query_int(request.GET, "patient", high=BIGINT_MAX),
        "since": query_date(request.GET, "since"),
        "until": query_date(request.GET, "until"),
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
