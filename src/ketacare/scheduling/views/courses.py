"""Course pages: a patient's courses, starting a course or a booster course, the preview,
the course, stopping it and adding a booster session.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.clinical import ClinicalError
from ketacare.clinical.protocols import get_protocol, load_protocols
from ketacare.clinical.readiness import COURSE_START
from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.scheduling import selectors, services
from ketacare.scheduling.forms import BoosterForm, CourseStartForm, ReasonForm
from ketacare.scheduling.models import AppointmentStatus, Course, CourseStatus
from ketacare.scheduling.readiness import readiness_by_protocol
from ketacare.scheduling.views.common import clinic_today
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def patient_courses(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's courses and appointments (the patient page loads this card in place)."""
    actor = actor_of(request)
    patient = patient_get_for_actor(actor=actor, patient_id=patient_id, audit=False)
    courses = selectors.courses_of_patient(actor=actor, patient=patient)
    context = {
        "patient": patient,
        "courses": courses,
        "now": clock.now(),
        "readiness": _readiness(patient) if actor.can(Permission.CHART_VIEW) else [],
    }
    return render_page(
        request,
        "scheduling/patient_courses.html",
        context,
        partial="scheduling/_patient_courses_card.html",
    )


def _readiness(patient: Patient) -> list[dict[str, Any]]:
    """Per protocol: the core's answer to "may a course start", with every reason it may not."""
    return [
        {
            "protocol": protocol,
            "ready": readiness.may(COURSE_START),
            "answer": readiness.answer(COURSE_START),
            "why": readiness.why(COURSE_START),
        }
        for protocol, readiness in readiness_by_protocol(patient=patient)
    ]


@clinic_view(Permission.COURSE_MANAGE)
@in_clinic_time
def course_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Start a course for a patient: preview the proposed sessions, then book them all."""
    actor = actor_of(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.COURSE_MANAGE
    )
    chairs = selectors.chairs_of_clinic(actor=actor)
    form = CourseStartForm(
        request.POST or None, initial={"start_on": clinic_today(request)}, chairs=chairs
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            course = services.course_start(
                actor=actor,
                patient=patient,
                protocol_id=data["protocol_id"],
                start_on=data["start_on"],
                chair=data["chair"],
                first_time=data["first_time"],
                sessions=data["sessions"],
                idempotency_key=data["idempotency_key"],
            )
        except (KetaCareError, ClinicalError) as refusal:
            status = refusal_to_form(form, refusal)
        else:
            booked = course.appointments.count()
            messages.success(request, f"Course started: {booked} sessions booked.")
            return redirect("course_detail", course_id=course.pk)
    elif request.method == "POST":
        status = 422
    context = {
        "patient": patient,
        "form": form,
        "readiness": _readiness(patient),
        "parent": None,
        "action": reverse("course_new", kwargs={"patient_id": patient.pk}),
    }
    return render_page(request, "scheduling/course_form.html", context, status=status)


@clinic_view(Permission.COURSE_MANAGE)
@in_clinic_time
def booster_course_new(request: HttpRequest, course_id: int) -> HttpResponse:
    """Start a booster course after a completed or stopped course."""
    actor = actor_of(request)
    parent = selectors.course_get_for_actor(
        actor=actor, course_id=course_id, permission=Permission.COURSE_MANAGE
    )
    chairs = selectors.chairs_of_clinic(actor=actor)
    # the protocols on the parent course's route (two routes compared, none named)
    booster_ids = [p.id for p in load_protocols().values() if p.route == parent.route]
    form = CourseStartForm(
        request.POST or None,
        initial={
            "start_on": clinic_today(request),
            "protocol_id": "iv_booster" if "iv_booster" in booster_ids else parent.protocol_id,
        },
        chairs=chairs,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            course = services.booster_course_start(
                actor=actor,
                parent=parent,
                protocol_id=data["protocol_id"],
                start_on=data["start_on"],
                chair=data["chair"],
                first_time=data["first_time"],
                sessions=data["sessions"],
                idempotency_key=data["idempotency_key"],
            )
        except (KetaCareError, ClinicalError) as refusal:
            status = refusal_to_form(form, refusal)
        else:
            messages.success(request, "Booster course started.")
            return redirect("course_detail", course_id=course.pk)
    elif request.method == "POST":
        status = 422
    context = {
        "patient": parent.patient,
        "form": form,
        "readiness": _readiness(parent.patient),
        "parent": parent,
        "action": reverse("booster_course_new", kwargs={"course_id": parent.pk}),
    }
    return render_page(request, "scheduling/course_form.html", context, status=status)


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def course_preview(request: HttpRequest) -> HttpResponse:
    """The proposed sessions for the course form's values, checked at the chair and time."""
    actor = actor_of(request)
    form = CourseStartForm(request.GET, chairs=selectors.chairs_of_clinic(actor=actor))
    context: dict[str, Any] = {"proposal": None, "error": ""}
    if form.is_valid():
        data = form.cleaned_data
        patient_id = request.GET.get("patient", "")
        try:
            context["proposal"] = selectors.schedule_proposal(
                actor=actor,
                protocol_id=data["protocol_id"],
                start_on=data["start_on"],
                sessions=data["sessions"],
                chair=data["chair"],
                first_time=data["first_time"],
                patient_id=int(patient_id) if patient_id.isdigit() else None,
            )
        except (KetaCareError, ClinicalError) as refusal:
            context["error"] = getattr(refusal, "message", str(refusal))
    else:
        context["error"] = "Choose a protocol, a first day, a time and a chair to preview."
    return render_page(
        request, "scheduling/_proposal.html", context, partial="scheduling/_proposal.html"
    )


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    """A course: protocol, screening and consent it rests on, its sessions, boosters, stopping."""
    course = selectors.course_get_for_actor(actor=actor_of(request), course_id=course_id)
    return render_page(request, "scheduling/course_detail.html", _course_context(request, course))


def _course_context(request: HttpRequest, course: Course, **extra: Any) -> dict[str, Any]:
    actor = actor_of(request)
    appointments = selectors.course_appointments(course=course)
    counted = [
        a
        for a in appointments
        if a.kind in selectors.SESSION_KINDS and a.status in selectors.OCCUPYING_STATUSES
    ]
    context: dict[str, Any] = {
        "course": course,
        "protocol": get_protocol(course.protocol_id),
        "appointments": appointments,
        "counted": len(counted),
        "completed": sum(1 for a in counted if a.status == AppointmentStatus.COMPLETED),
        "is_active": course.status == CourseStatus.ACTIVE,
        "booster_form": extra.get("booster_form")
        or BoosterForm(chairs=selectors.chairs_of_clinic(actor=actor)),
        "stop_form": extra.get("stop_form") or ReasonForm(initial={"version": course.version}),
        "booster_courses": list(course.booster_courses.all()),
    }
    return context


@clinic_view(Permission.COURSE_MANAGE)
@require_POST
@in_clinic_time
def course_stop(request: HttpRequest, course_id: int) -> HttpResponse:
    """Stop a course with a reason; its future bookings are cancelled."""
    actor = actor_of(request)
    course = selectors.course_get_for_actor(
        actor=actor, course_id=course_id, permission=Permission.COURSE_MANAGE, audit=False
    )
    form = ReasonForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.course_stop(
                actor=actor,
                course=course,
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except (KetaCareError, ClinicalError) as refusal:
            status = refusal_to_form(form, refusal)
        else:
            messages.success(request, "Course stopped; its future bookings are cancelled.")
            return redirect("course_detail", course_id=course_id)
    context = _course_context(request, course, stop_form=form)
    return render_page(request, "scheduling/course_detail.html", context, status=status)


@clinic_view(Permission.COURSE_MANAGE)
@require_POST
@in_clinic_time
def course_booster(request: HttpRequest, course_id: int) -> HttpResponse:
    """Add a booster session to an active course, as its protocol allows."""
    actor = actor_of(request)
    course = selectors.course_get_for_actor(
        actor=actor, course_id=course_id, permission=Permission.COURSE_MANAGE, audit=False
    )
    form = BoosterForm(request.POST, chairs=selectors.chairs_of_clinic(actor=actor))
    status = 422
    if form.is_valid():
        try:
            services.course_add_booster(
                actor=actor,
                course=course,
                chair=form.cleaned_data["chair"],
                starts_at=form.cleaned_data["starts_at"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except (KetaCareError, ClinicalError) as refusal:
            status = refusal_to_form(form, refusal)
        else:
            messages.success(request, "Booster booked.")
            return redirect("course_detail", course_id=course_id)
    context = _course_context(request, course, booster_form=form)
    return render_page(request, "scheduling/course_detail.html", context, status=status)
