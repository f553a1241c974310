"""Appointment pages: booking, the appointment, rescheduling, cancelling, status moves."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.clinical import ClinicalError
from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.kernel.bounds import query_datetime
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.patients.selectors import patients_of_clinic
from ketacare.scheduling import selectors, services
from ketacare.scheduling.forms import LOCAL_INPUT, AppointmentForm, ReasonForm, RescheduleForm
from ketacare.scheduling.models import AppointmentKind, AppointmentStatus
from ketacare.scheduling.services import APPOINTMENT_TRANSITIONS, CANCELLABLE_STATUSES
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


def _booking_initial(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    if request.GET.get("chair", "").isdigit():
        initial["chair"] = int(request.GET["chair"])
    if request.GET.get("course", "").isdigit():
        initial["course"] = int(request.GET["course"])
    if request.GET.get("therapist", "").isdigit():
        initial["therapist"] = int(request.GET["therapist"])
    if request.GET.get("kind", "") in AppointmentKind.values:
        initial["kind"] = request.GET["kind"]
    if request.GET.get("patient_mrn"):  # "Book an appointment" from the patient's chart
        initial["patient_mrn"] = request.GET["patient_mrn"].strip()[:32]
    start = query_datetime(request.GET, "start")
    if start is not None:
        local = timezone.localtime(start) if timezone.is_aware(start) else start
        initial["starts_at"] = local.strftime(LOCAL_INPUT)
    return initial


@clinic_view(Permission.SCHEDULE_MANAGE)
@in_clinic_time
def appointment_new(request: HttpRequest) -> HttpResponse:
    """Book an appointment (the calendar opens this in place for the slot clicked)."""
    actor = actor_of(request)
    courses = selectors.active_courses_of_clinic(actor=actor)
    chart_mrn = request.GET.get("patient_mrn", "").strip()
    if request.method != "POST" and chart_mrn:
        # From the patient's chart: offer that patient's courses only.
        courses = [course for course in courses if course.patient.mrn == chart_mrn]
    chairs = selectors.chairs_of_clinic(actor=actor)
    form = AppointmentForm(
        request.POST or None,
        initial=_booking_initial(request),
        courses=courses,
        chairs=chairs,
        therapists=selectors.therapists_of_clinic(actor=actor),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        course = data["course"]
        try:
            mrn = data["patient_mrn"].strip()
            if course is not None:
                course = selectors.course_get_for_actor(
                    actor=actor, course_id=course.pk, audit=False
                )
                patient = course.patient
            else:
                found = patients_of_clinic(actor=actor).filter(mrn=mrn)
                patient_or_none = found.first()
                if patient_or_none is None:
                    raise Http404("No patient with that MRN in this clinic.")
                patient = patient_or_none
            appointment = services.appointment_book(
                actor=actor,
                patient=patient,
                starts_at=data["starts_at"],
                chair=data["chair"],
                course=course,
                kind=data["kind"] or None,
                minutes=data["minutes"],
                idempotency_key=data["idempotency_key"],
                therapist=data["therapist"],
            )
        except Http404 as missing:
            form.add_error("patient_mrn", str(missing))
            status = 422
        except (KetaCareError, ClinicalError) as refusal:
            status = refusal_to_form(form, refusal)
        else:
            local = timezone.localtime(appointment.starts_at)
            messages.success(
                request,
                f"Booked {patient.initials} · {appointment.get_kind_display()} at "
                f"{local:%a %d %b %H:%M}.",
            )
            return redirect(f"{reverse('schedule_day')}?date={local.date().isoformat()}")
    elif request.method == "POST":
        status = 422
    return render_page(
        request,
        "scheduling/appointment_form.html",
        {"form": form},
        partial="scheduling/_appointment_form.html",
        status=status,
    )


def _appointment_context(request: HttpRequest, appointment_id: int, **extra: Any) -> dict:  # type: ignore[type-arg]
    actor = actor_of(request)
    appointment = selectors.appointment_get_for_actor(actor=actor, appointment_id=appointment_id)
    chairs = selectors.chairs_of_clinic(actor=actor)
    # Check-in and the session are recorded on the day (the service refuses earlier).
    on_the_day = timezone.localdate(appointment.starts_at) <= clock.today()
    moves = {
        status: actor.can(permission) and on_the_day
        for status, permission in APPOINTMENT_TRANSITIONS.get(appointment.status, {}).items()
    }
    local_start = timezone.localtime(appointment.starts_at).strftime(LOCAL_INPUT)
    context = {
        "appointment": appointment,
        "moves": [(AppointmentStatus(s), allowed) for s, allowed in moves.items() if allowed],
        "cancellable": appointment.status in CANCELLABLE_STATUSES,
        "reschedulable": appointment.status == AppointmentStatus.BOOKED,
        "reschedule_form": RescheduleForm(
            initial={"version": appointment.version, "starts_at": local_start}, chairs=chairs
        ),
        "cancel_form": ReasonForm(initial={"version": appointment.version}),
        "rescheduled_to": list(appointment.rescheduled_to.all()),
    }
    context.update(extra)
    return context


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """One appointment: what, when, where, status; check in, reschedule or cancel."""
    return render_page(
        request, "scheduling/appointment_detail.html", _appointment_context(request, appointment_id)
    )


@clinic_view(Permission.SCHEDULE_MANAGE)
@require_POST
@in_clinic_time
def appointment_reschedule(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Move a booked appointment to another time (or chair), with a reason."""
    actor = actor_of(request)
    appointment = selectors.appointment_get_for_actor(
        actor=actor, appointment_id=appointment_id, audit=False
    )
    form = RescheduleForm(request.POST, chairs=selectors.chairs_of_clinic(actor=actor))
    if form.is_valid():
        try:
            moved = services.appointment_reschedule(
                actor=actor,
                appointment=appointment,
                version=form.cleaned_data["version"],
                starts_at=form.cleaned_data["starts_at"],
                reason=form.cleaned_data["reason"],
                chair=form.cleaned_data["chair"],
            )
        except (KetaCareError, ClinicalError) as refusal:
            status = refusal_to_form(form, refusal)
        else:
            messages.success(request, "Rescheduled; the old booking is kept as cancelled.")
            return redirect("appointment_detail", appointment_id=moved.pk)
    else:
        status = 422
    context = _appointment_context(request, appointment_id, reschedule_form=form)
    return render_page(request, "scheduling/appointment_detail.html", context, status=status)


@clinic_view(Permission.SCHEDULE_MANAGE)
@require_POST
@in_clinic_time
def appointment_cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Cancel an appointment, with a reason."""
    actor = actor_of(request)
    appointment = selectors.appointment_get_for_actor(
        actor=actor, appointment_id=appointment_id, audit=False
    )
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_cancel(
                actor=actor,
                appointment=appointment,
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except (KetaCareError, ClinicalError) as refusal:
            status = refusal_to_form(form, refusal)
        else:
            messages.success(request, "Appointment cancelled.")
            return redirect("appointment_detail", appointment_id=appointment_id)
    else:
        status = 422
    context = _appointment_context(request, appointment_id, cancel_form=form)
    return render_page(request, "scheduling/appointment_detail.html", context, status=status)


@clinic_view(Permission.SCHEDULE_MANAGE)
@require_POST
@in_clinic_time
def appointment_status(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Check a patient in, record a no-show, or (clinicians) start and complete the session."""
    actor = actor_of(request)
    appointment = selectors.appointment_get_for_actor(
        actor=actor, appointment_id=appointment_id, audit=False
    )
    version = request.POST.get("version", "")
    try:
        services.appointment_set_status(
            actor=actor,
            appointment=appointment,
            status=request.POST.get("status", ""),
            version=int(version) if version.isdigit() else None,
        )
    except (KetaCareError, ClinicalError) as refusal:
        messages.error(request, getattr(refusal, "message", str(refusal)))
    else:
        messages.success(request, "Status updated.")
    return redirect("appointment_detail", appointment_id=appointment_id)
