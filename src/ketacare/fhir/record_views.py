"""The patient's record download: a staff page that issues the link, and the portal pages."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ketacare.accounts.access import client_address
from ketacare.accounts.permissions import Permission
from ketacare.fhir.models import RecordLink
from ketacare.fhir.record import (
    patient_bundle,
    patient_pdf,
    record_download_audit,
    record_link_issue,
    record_link_resolve,
)
from ketacare.followup import portal
from ketacare.kernel import clock
from ketacare.patients.models import Patient
from ketacare.web.access import actor_of, clinic_view


@require_http_methods(["GET", "POST"])
@clinic_view(Permission.RECORD_EXPORT)
def record_link_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Issue the patient a link to download their own record; show the links issued."""
    actor = actor_of(request)
    patient = Patient.objects.get(pk=patient_id, clinic_id=actor.clinic_id)
    issued_url = None
    if request.method == "POST":
        _, token = record_link_issue(actor=actor, patient_id=patient.pk, now=clock.wall_now())
        issued_url = request.build_absolute_uri(reverse("record_portal", args=[token]))
    links = RecordLink.objects.filter(clinic_id=actor.clinic_id, patient=patient).order_by(
        "-created_at"
    )[:10]
    return render(
        request,
        "fhir/record_link.html",
        {"patient": patient, "links": links, "issued_url": issued_url, "now": clock.wall_now()},
    )


def _portal(request: HttpRequest, token: str) -> tuple[RecordLink | None, HttpResponse | None]:
    now = clock.wall_now()
    address = client_address(request) or "unknown"
    if not portal.rate_limit_hit(key=f"addr:{address}", limit=portal.ADDRESS_LIMIT, now=now):
        return None, _closed(request, 429, "Too many attempts", "Please wait, then try again.")
    link = record_link_resolve(token=token, now=now)
    if link is None:
        portal.rate_limit_hit(key=f"fail:{address}", limit=portal.ADDRESS_FAILURE_LIMIT, now=now)
        return None, _closed(
            request, 404, "This link does not work", "It may have expired; ask your clinic."
        )
    return link, None


def _closed(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return _private(
        render(
            request,
            "followup/portal/closed.html",
            {"title": title, "message": message},
            status=status,
        )
    )


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_http_methods(["GET"])
def record_portal(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's page: what the record holds, and the two downloads."""
    link, refused = _portal(request, token)
    if refused is not None or link is None:
        return refused or HttpResponse(status=404)
    bundle = patient_bundle(link.patient)
    counts: dict[str, int] = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
    record_download_audit(link=link, what="page", address=client_address(request))
    context: dict[str, Any] = {
        "clinic": link.clinic,
        "patient": link.patient,
        "token": token,
        "counts": sorted(counts.items()),
        "expires_at": link.expires_at,
    }
    return _private(render(request, "fhir/record_portal.html", context))


@require_http_methods(["GET"])
def record_portal_json(request: HttpRequest, token: str) -> HttpResponse:
    """The whole record as a FHIR R4 Bundle."""
    link, refused = _portal(request, token)
    if refused is not None or link is None:
        return refused or HttpResponse(status=404)
    body = json.dumps(patient_bundle(link.patient), indent=1, ensure_ascii=False)
    record_download_audit(link=link, what="fhir+json", address=client_address(request))
    response = HttpResponse(body, content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="record-{link.patient.mrn}.json"'
    return _private(response)


@require_http_methods(["GET"])
def record_portal_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """A readable summary of the record as a PDF."""
    link, refused = _portal(request, token)
    if refused is not None or link is None:
        return refused or HttpResponse(status=404)
    pdf = patient_pdf(link.patient, patient_bundle(link.patient))
    record_download_audit(link=link, what="pdf", address=client_address(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="record-{link.patient.mrn}.pdf"'
    return _private(response)
