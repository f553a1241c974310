"""Schedule pages: the day and week calendar, booking, courses, appointments, settings, the feed.

Every page runs with the clinic's time zone active, so times shown and entered are the
clinic's wall-clock times.
"""

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ketacare.accounts.access import client_address
from ketacare.accounts.models import hash_token
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import ClinicalError
from ketacare.clinical.protocols import get_protocol, load_protocols
from ketacare.clinical.readiness import COURSE_START
from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.kernel.bounds import query_date, query_datetime
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_get_for_actor, patients_of_clinic
from ketacare.scheduling import selectors, services
from ketacare.scheduling.forms import (
    LOCAL_INPUT,
    AppointmentForm,
    BoosterForm,
    ChairForm,
    CourseStartForm,
    ReasonForm,
    RescheduleForm,
    ScheduleSettingsForm,
)
from ketacare.scheduling.ical import FeedEvent, render_calendar
from ketacare.scheduling.models import AppointmentStatus, Course, CourseStatus
from ketacare.scheduling.readiness import readiness_by_protocol
from ketacare.scheduling.services import APPOINTMENT_TRANSITIONS, CANCELLABLE_STATUSES
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form
from ketacare.web.htmx import render_page

View = Callable[..., HttpResponse]
# The feed's window: a fortnight back, eight weeks ahead, and at most this many events (a
# calendar client polls the whole feed every few minutes; a clinic's full history is not its job).
FEED_PAST_DAYS = 14
FEED_FUTURE_DAYS = 56
FEED_EVENT_LIMIT = 1000


def _today(request: HttpRequest) -> date:
    return timezone.localdate()


def _day_param(request: HttpRequest) -> date:
    return query_date(request.GET, "date") or _today(request)


# --- calendar -----------------------------------------------------------------------------------


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def schedule_day(request: HttpRequest) -> HttpResponse:
    """The day view: chairs as columns, time as rows, capacity per slot; click a slot to book."""
    actor = actor_of(request)
    day = _day_param(request)
    calendar = selectors.calendar_day(actor=actor, day=day, room=request.GET.get("room", ""))
    context = {
        "cal": calendar,
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "today": _today(request),
        "week_start": day - timedelta(days=day.weekday()),
    }
    return render_page(request, "scheduling/day.html", context, partial="scheduling/_day_grid.html")


@clinic_view(Permission.SCHEDULE_VIEW)
@in_clinic_time
def schedule_week(request: HttpRequest) -> HttpResponse:
    """The week view: days as columns, time as rows, chairs booked of chairs available."""
    actor = actor_of(request)
    day = _day_param(request)
    week_start = day - timedelta(days=day.weekday())
    calendar = selectors.calendar_week(
        actor=actor, week_start=week_start, room=request.GET.get("room", "")
    )
    context = {
        "cal": calendar,
        "day": day,
        "previous": week_start - timedelta(days=7),
        "next": week_start + timedelta(days=7),
        "today": _today(request),
    }
    return render_page(request, "scheduling/week.html", context)


# --- appointments -------------------------------------------------------------------------------


def _booking_initial(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    if request.GET.get("chair", "").isdigit():
        initial["chair"] = int(request.GET["chair"])
    if request.GET.get("course", "").isdigit():
        initial["course"] = int(request.GET["course"])
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
    chairs = selectors.chairs_of_clinic(actor=actor)
    form = AppointmentForm(
        request.POST or None, initial=_booking_initial(request), courses=courses, chairs=chairs
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        course = data["course"]
        try:
            if course is not None:
                course = selectors.course_get_for_actor(
                    actor=actor, course_id=course.pk, audit=False
                )
                patient = course.patient
            else:
                found = patients_of_clinic(actor=actor).filter(mrn=data["patient_mrn"].strip())
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
    on_the_day = timezone.localdate(appointment.starts_at) <= timezone.localdate()
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


# --- courses ------------------------------------------------------------------------------------


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
        request.POST or None, initial={"start_on": _today(request)}, chairs=chairs
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
            "start_on": _today(request),
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


# --- settings, chairs and the feed --------------------------------------------------------------


def _settings_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    actor = actor_of(request)
    schedule = selectors.clinic_schedule_for(clinic=actor.clinic)
    minimums = selectors.route_minimum_minutes()
    initial = {
        "open_weekdays": schedule.open_weekdays,
        "opens_at": schedule.opens_at,
        "closes_at": schedule.closes_at,
        "slot_minutes": schedule.slot_minutes,
        "version": schedule.version,
        **{f"minutes_{r}": m for r, m in (schedule.session_minutes or {}).items()},
    }
    context = {
        "schedule": schedule,
        "settings_form": ScheduleSettingsForm(initial=initial, minimums=minimums),
        "chair_form": ChairForm(),
        "chairs": selectors.chairs_of_clinic(actor=actor, include_inactive=True),
        "feed": selectors.live_calendar_feed(actor=actor),
        "feed_url": "",
    }
    context.update(extra)
    return context


@clinic_view(Permission.CLINIC_MANAGE)
@in_clinic_time
def schedule_settings(request: HttpRequest) -> HttpResponse:
    """Opening days and hours, chair time per route, chairs, and the staff calendar feed."""
    actor = actor_of(request)
    status = 200
    extra: dict[str, Any] = {}
    if request.method == "POST":
        form = ScheduleSettingsForm(request.POST, minimums=selectors.route_minimum_minutes())
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.clinic_schedule_update(
                    actor=actor,
                    version=data["version"],
                    open_weekdays=data["open_weekdays"],
                    opens_at=data["opens_at"],
                    closes_at=data["closes_at"],
                    slot_minutes=data["slot_minutes"],
                    session_minutes=form.session_minutes(),
                )
            except (KetaCareError, ClinicalError) as refusal:
                status = refusal_to_form(form, refusal)
            else:
                messages.success(request, "Schedule settings saved.")
                return redirect("schedule_settings")
        extra["settings_form"] = form
    return render_page(
        request, "scheduling/settings.html", _settings_context(request, **extra), status=status
    )


@clinic_view(Permission.CLINIC_MANAGE)
@require_POST
@in_clinic_time
def chair_new(request: HttpRequest) -> HttpResponse:
    """Add a chair."""
    form = ChairForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.chair_create(actor=actor_of(request), **form.cleaned_data)
        except KetaCareError as refusal:
            status = refusal_to_form(form, refusal)
        else:
            messages.success(request, "Chair added.")
            return redirect("schedule_settings")
    return render_page(
        request,
        "scheduling/settings.html",
        _settings_context(request, chair_form=form),
        status=status,
    )


@clinic_view(Permission.CLINIC_MANAGE)
@require_POST
@in_clinic_time
def chair_active(request: HttpRequest, chair_id: int) -> HttpResponse:
    """Put a chair out of use, or back into use."""
    actor = actor_of(request)
    chair = selectors.chair_get_for_actor(
        actor=actor, chair_id=chair_id, permission=Permission.CLINIC_MANAGE
    )
    try:
        services.chair_set_active(
            actor=actor, chair=chair, is_active=request.POST.get("is_active") == "1"
        )
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"{chair} updated.")
    return redirect("schedule_settings")


@clinic_view(Permission.CLINIC_MANAGE)
@require_POST
@in_clinic_time
def feed_rotate(request: HttpRequest) -> HttpResponse:
    """Issue a new secret feed URL (the old one stops working); it is shown once."""
    token = services.calendar_feed_rotate(actor=actor_of(request))
    url = request.build_absolute_uri(reverse("schedule_feed")) + f"?token={token}"
    return render_page(
        request, "scheduling/settings.html", _settings_context(request, feed_url=url)
    )


@require_GET
def schedule_feed(request: HttpRequest) -> HttpResponse:
    """The clinic's iCalendar feed for staff calendars, at a secret URL (token, not sign-in).

    Initials, appointment type and chair only: no names, no MRN. A wrong or rotated token
    is 404. Every fetch is audited as an export.
    """
    token = request.GET.get("token", "")
    if not token or len(token) > 128:
        raise Http404("Calendar feed not found.")
    feed = selectors.calendar_feed_for_token(token_hash=hash_token(token))
    if feed is None:
        raise Http404("Calendar feed not found.")
    clinic = feed.clinic
    now = clock.now()
    appointments = selectors.feed_appointments(
        clinic=clinic,
        start=now - timedelta(days=FEED_PAST_DAYS),
        end=now + timedelta(days=FEED_FUTURE_DAYS),
        limit=FEED_EVENT_LIMIT,
    )
    events = [
        FeedEvent(
            uid=f"appointment-{a.pk}@{clinic.slug}.ketacare",
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            summary=" · ".join(
                part
                for part in (a.patient.initials, a.get_kind_display(), a.chair and a.chair.label)
                if part
            ),
            location=str(a.chair) if a.chair else "",
            description=f"Status: {a.get_status_display()}",
        )
        for a in appointments
    ]
    audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        clinic_id=clinic.pk,
        object_type="calendar_feed",
        object_id=feed.pk,
        username="calendar-feed",
        client_address=client_address(request),
        # What went out, without a list that grows with the clinic: the window, the count and a
        # digest of the ids in order, against which a reconstructed list can be checked.
        detail={
            "from": (now - timedelta(days=FEED_PAST_DAYS)).isoformat(),
            "until": (now + timedelta(days=FEED_FUTURE_DAYS)).isoformat(),
            "count": len(appointments),
            "ids_sha256": hashlib.sha256(
                ",".join(str(a.pk) for a in appointments).encode()
            ).hexdigest(),
        },
    )
    body = render_calendar(
        events, name=f"{clinic.name} appointments", stamped_at=now, product="-//KetaCare//EN"
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
