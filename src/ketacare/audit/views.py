"""The clinic admin's view of the audit trail."""

from django.http import HttpRequest, HttpResponse

from ketacare.accounts.permissions import Permission
from ketacare.audit.lookup import patient_labels, patients_matching
from ketacare.audit.models import AuditAction
from ketacare.audit.selectors import audit_entries_for_clinic
from ketacare.kernel.bounds import query_date
from ketacare.pagination import keyset_page
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


@clinic_view(Permission.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    """Browse and filter the clinic's audit entries, newest first; patients by MRN or name."""
    actor = actor_of(request)
    patient_query = " ".join(request.GET.get("patient", "").split())[:100]
    matched = patients_matching(actor=actor, query=patient_query) if patient_query else None
    entries = audit_entries_for_clinic(
        actor=actor,
        username=request.GET.get("user", "")[:150],
        action=request.GET.get("action", "")
        if request.GET.get("action") in AuditAction.values
        else "",
        # An MRN or a name that matches nobody shows nothing, never the unfiltered trail.
        patient_ids=None if matched is None else list(matched),
        since=query_date(request.GET, "since"),
        until=query_date(request.GET, "until"),
    )
    # Keyset pages: the thousandth page costs what the first does, and nothing counts the trail.
    page = keyset_page(
        entries, keys=("at", "seq"), cursor=request.GET.get("after"), size=100, descending=True
    )
    labels = patient_labels(
        actor=actor, patient_ids=sorted({e.patient_id for e in page if e.patient_id})
    )
    for entry in page:
        entry.patient_label = labels.get(entry.patient_id or 0, "")
    return render_page(
        request,
        "audit/list.html",
        {
            "page": page,
            "filters": request.GET,
            "actions": AuditAction.choices,
            "matched": matched,
        },
        partial="audit/_rows.html",
    )
