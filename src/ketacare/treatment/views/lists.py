"""Today's sessions, check-in from the list, and a patient's sessions."""

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.clinical.errors import ClinicalError
from ketacare.errors import KetaCareError
from ketacare.kernel.bounds import query_date
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.treatment import selectors, services
from ketacare.treatment.forms import (
    CheckInForm,
)
from ketacare.treatment.views.common import _page
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_message
from ketacare.web.htmx import render_page

# --- today's sessions -----------------------------------------------------------------------------


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def session_list(request: HttpRequest) -> HttpResponse:
    """Today's treatment appointments and sessions, with check-in for those not started."""
    actor = actor_of(request)
    day = query_date(request.GET, "day") or selectors.today(actor=actor)
    rows = selectors.sessions_for_day(actor=actor, day=day)
    return render(
        request,
        "treatment/today.html",
        {
            # Each check-in button is its own submission, with its own key.
            "rows": [(row, uuid.uuid4().hex) for row in rows],
            "day": day,
            "is_today": day == selectors.today(actor=actor),
        },
    )


@clinic_view(Permission.SESSION_RUN)
@require_POST
@in_clinic_time
def session_check_in(request: HttpRequest) -> HttpResponse:
    """Check a patient in: the session page opens at the pre-dose checks."""
    actor = actor_of(request)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The check-in form was incomplete; try again.")
        return redirect("session_list")
    try:
        session = services.session_check_in(
            actor=actor,
            idempotency_key=form.cleaned_data["idempotency_key"],
            appointment_id=form.cleaned_data.get("appointment_id"),
            course_id=form.cleaned_data.get("course_id"),
        )
    except (KetaCareError, ClinicalError) as error:
        messages.error(request, refusal_message(error))
        return redirect("session_list")
    messages.success(request, f"{session.patient.display_name} is checked in.")
    return redirect(_page(session.pk))


@clinic_view(Permission.SESSION_VIEW)
@in_clinic_time
def patient_sessions(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's sessions, as a section of the chart (loaded by htmx) or on their own."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.SESSION_VIEW
    )
    sessions = selectors.patient_sessions(actor=actor, patient=patient)
    return render_page(
        request,
        "treatment/patient_sessions.html",
        {"patient": patient, "sessions": sessions, "allowed": True},
        partial="treatment/_patient_sessions.html",
    )
