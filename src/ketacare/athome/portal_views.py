"""The at-home dose on the patient's phone, and the sitter's own page, in the patient portal.

The followup portal's guard (`portal_page`: rate limits, token look-up, plain refusal pages)
fronts every view; the link's purpose says whose page it is. The patient's page walks one
dose: start → gate (sitter, BP, heart rate, three questions) → take it with a timer → tracker.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketacare.athome import services
from ketacare.athome.models import DoseStatus, HomeDose, HomeProgramme
from ketacare.athome.selectors import clinic_day, open_dose_of, release_facts, tracker_due_dose
from ketacare.athome.services.doses import SESSION_MINUTES, programme_of_link, session_ends_at
from ketacare.clinical.athome import check_release, load_home_rules, sitter_checkin_state
from ketacare.errors import KetaCareError
from ketacare.followup.portal import portal_read_audit
from ketacare.followup.portal_views import portal_page
from ketacare.kernel import clock
from ketacare.outcomes.models import PortalLink, PortalLinkPurpose

YES_NO = {"yes": True, "no": False}
QUESTIONS = (
    ("fasting", "Have you gone without food for the time your clinic asked?"),
    ("no_alcohol_or_substances", "No alcohol or other drugs today?"),
    ("safe_place", "Are you somewhere safe to sit or lie down?"),
)
TRACKER_CHOICES = {
    "severity": [(0, "None"), (1, "Mild"), (2, "Moderate"), (3, "Severe")],
    "mood": [(-2, "Much worse"), (-1, "A bit worse"), (0, "The same"), (1, "A bit better"),
             (2, "Much better")],
    "yes_no": [(1, "Yes"), (0, "No")],
}  # fmt: skip


def _address(request: HttpRequest) -> str | None:
    return getattr(request, "portal_address", None)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _page(
    request: HttpRequest, link: PortalLink, token: str, template: str, **extra: Any
) -> HttpResponse:
    context = {"link": link, "token": token, "clinic": link.clinic, "questions": QUESTIONS, **extra}
    return render(request, f"athome/portal/{template}", context, status=extra.pop("status", 200))


@require_http_methods(["GET"])
@portal_page
def home(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    """Where the patient (or sitter) is in today's dose, and the one thing to do next."""
    try:
        programme = programme_of_link(link)
    except KetaCareError as refusal:
        return _page(request, link, token, "paused.html", message=refusal.message)
    portal_read_audit(link=link, object_type="home_programme", object_id=programme.pk,
                      client_address=_address(request))  # fmt: skip
    if link.purpose == PortalLinkPurpose.SITTER:
        dose = open_dose_of(programme)
        return _page(request, link, token, "sitter.html", programme=programme, dose=dose,
                     session=None if dose else _session_of(programme))  # fmt: skip
    dose = open_dose_of(programme)
    if dose is not None and dose.status == DoseStatus.OPEN:
        return _page(request, link, token, "gate.html", dose=dose, programme=programme)
    if dose is not None:
        return _page(request, link, token, "take.html", dose=dose, programme=programme)
    due = tracker_due_dose(programme)
    if due is not None:
        return redirect("athome_portal_tracker", token=token, dose_id=due.pk)
    today = clinic_day(programme.clinic.time_zone)
    blocked = programme.doses.filter(status=DoseStatus.BLOCKED).order_by("-gate_checked_at").first()
    if (
        blocked is not None
        and blocked.gate_checked_at
        and clinic_day(programme.clinic.time_zone, blocked.gate_checked_at) == today
    ):
        return _page(request, link, token, "blocked.html", dose=blocked, programme=programme)
    holds = check_release(release_facts(programme, today=today))
    return _page(request, link, token, "start.html", programme=programme, holds=holds)


def _session_of(programme: HomeProgramme) -> dict[str, Any] | None:
    """The dose whose session is running, with the sitter's check-ins and the next one due."""
    taken = programme.doses.filter(status=DoseStatus.TAKEN).order_by("-taken_at").first()
    ends = session_ends_at(taken) if taken is not None else None
    now = clock.now()
    if taken is None or taken.taken_at is None or ends is None or now > ends:
        return None
    checkins = list(taken.checkins.all())
    state = sitter_checkin_state(
        taken_at=taken.taken_at, session_ends_at=ends, checkins=[c.at for c in checkins], now=now
    )
    return {"dose": taken, "checkins": checkins, "state": state, "ends_at": ends}


@require_POST
@portal_page
def checkin(request: HttpRequest, link: PortalLink, token: str, dose_id: int) -> HttpResponse:
    """The sitter checks in during the session: all is well, or worried (the clinic is alerted)."""
    answer = {"well": True, "worried": False}.get(request.POST.get("answer", ""))
    try:
        services.home_dose_sitter_checkin(
            link=link, dose_id=dose_id, well=answer, note=request.POST.get("note", ""),
            address=_address(request),
        )  # fmt: skip
    except KetaCareError as refusal:
        return _page(request, link, token, "paused.html", message=refusal.message, status=422)
    return redirect("athome_portal", token=token)


@require_POST
@portal_page
def start(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    """Open today's dose (released by the core or refused with the reason)."""
    with contextlib.suppress(KetaCareError):  # the home page shows why the dose is held
        services.home_dose_open(link=link, address=_address(request))
    return redirect("athome_portal", token=token)


@require_POST
@portal_page
def attest(request: HttpRequest, link: PortalLink, token: str, dose_id: int) -> HttpResponse:
    """The sitter confirms, from their own link, that they are with the patient."""
    try:
        services.home_dose_sitter_attest(link=link, dose_id=dose_id, address=_address(request))
    except KetaCareError as refusal:
        return _page(request, link, token, "paused.html", message=refusal.message, status=422)
    return redirect("athome_portal", token=token)


@require_POST
@portal_page
def gate(request: HttpRequest, link: PortalLink, token: str, dose_id: int) -> HttpResponse:
    """Check the gate with the readings and answers entered on the phone."""
    post = request.POST
    values: dict[str, Any] = {
        "systolic": _int(post.get("systolic")), "diastolic": _int(post.get("diastolic")),
        "heart_rate": _int(post.get("heart_rate")),
        "fasting": YES_NO.get(post.get("fasting", "")),
        "no_alcohol_or_substances": YES_NO.get(post.get("no_alcohol_or_substances", "")),
        "safe_place": YES_NO.get(post.get("safe_place", "")),
    }  # fmt: skip
    try:
        services.home_dose_gate(link=link, dose_id=dose_id, address=_address(request), **values)
    except KetaCareError as refusal:
        dose = HomeDose.objects.filter(pk=dose_id, patient_id=link.patient_id).first()
        if dose is None:
            return _page(request, link, token, "paused.html", message=refusal.message, status=422)
        return _page(request, link, token, "gate.html", dose=dose, error=refusal.message,
                     values=post, status=422)  # fmt: skip
    return redirect("athome_portal", token=token)


@require_POST
@portal_page
def take(request: HttpRequest, link: PortalLink, token: str, dose_id: int) -> HttpResponse:
    """The patient has taken the dose: the session timer starts."""
    try:
        services.home_dose_take(link=link, dose_id=dose_id, address=_address(request))
    except KetaCareError as refusal:
        return _page(request, link, token, "paused.html", message=refusal.message, status=422)
    return redirect("athome_portal_tracker", token=token, dose_id=dose_id)


@require_http_methods(["GET", "POST"])
@portal_page
def tracker(request: HttpRequest, link: PortalLink, token: str, dose_id: int) -> HttpResponse:
    """The session timer and, after it, the tracker that releases the next dose."""
    dose = HomeDose.objects.filter(
        pk=dose_id, patient_id=link.patient_id, clinic_id=link.clinic_id
    ).first()
    if dose is None or link.purpose != PortalLinkPurpose.HOME_DOSES:
        return _page(request, link, token, "paused.html", message="Not your dose.", status=404)
    if dose.status != DoseStatus.TAKEN:
        return redirect("athome_portal", token=token)
    items = [(item, TRACKER_CHOICES[item.kind]) for item in load_home_rules().items]
    ends = (dose.taken_at or clock.now()) + timedelta(minutes=SESSION_MINUTES)
    context = {"dose": dose, "items": items, "ends_at": ends,
               "seconds_left": max(0, int((ends - clock.now()).total_seconds()))}  # fmt: skip
    if request.method == "POST":
        answers = {item.id: _int(request.POST.get(item.id)) for item, _ in items}
        try:
            services.home_dose_tracker_submit(link=link, dose_id=dose.pk, answers=answers,
                                              address=_address(request))  # fmt: skip
        except KetaCareError as refusal:
            return _page(request, link, token, "tracker.html", error=refusal.message,
                         saved=answers, status=422, **context)  # fmt: skip
        return redirect("athome_portal", token=token)
    return _page(request, link, token, "tracker.html", saved={}, **context)
