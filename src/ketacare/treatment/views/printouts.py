"""The printable session summary and the esketamine REMS monitoring record."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketacare.accounts.permissions import Permission
from ketacare.clinical.aftercare import discharge_instructions
from ketacare.errors import KetaCareError
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.treatment import selectors
from ketacare.treatment.views.common import _page
from ketacare.web.access import actor_of, clinic_view

# --- printouts ------------------------------------------------------------------------------------


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def session_summary(request: HttpRequest, session_id: int) -> HttpResponse:
    """The printable session summary."""
    record = selectors.session_record(actor=actor_of(request), session_id=session_id)
    return render(
        request,
        "treatment/summary.html",
        {
            "record": record,
            "session": record.session,
            "patient": record.session.patient,
            "protocol": record.protocol,
            "print_view": True,
            "aftercare": discharge_instructions(record.session.route),
        },
    )


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def rems_record(request: HttpRequest, session_id: int) -> HttpResponse:
    """The esketamine REMS patient monitoring record, printable."""
    try:
        rems = selectors.rems_record(actor=actor_of(request), session_id=session_id)
    except KetaCareError as error:
        messages.error(request, error.message)
        return redirect(_page(session_id))
    record = rems.record
    return render(
        request,
        "treatment/rems.html",
        {
            "rems": rems,
            "record": record,
            "session": record.session,
            "patient": record.session.patient,
        },
    )
