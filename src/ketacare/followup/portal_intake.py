"""The portal's intake forms: what the patient fills in before the first visit (phone-first).

One page in four parts (contact, medical history, medicines, allergies). What is sent goes to
staff for review, never straight into the chart; the link is then used up.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ketacare.errors import KetaCareError
from ketacare.followup import portal
from ketacare.followup.portal_views import _address, _context, portal_page
from ketacare.kernel import clock
from ketacare.outcomes.models import PortalLink, PortalLinkPurpose
from ketacare.patients.codes import condition_label, medical_history_codes, medicine_suggestions

MEDICINE_ROWS = 6
ALLERGY_ROWS = 4


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _rows(
    post: QueryDict, prefix: str, fields: tuple[str, ...], count: int
) -> list[dict[str, str]]:
    return [
        {field: post.get(f"{prefix}_{field}_{i}", "").strip() for field in fields}
        for i in range(count)
    ]


def _sections(post: QueryDict) -> dict[str, Any]:
    """The chart sections the patient filled in (a part left empty is left out)."""
    sections: dict[str, Any] = {}
    contact = {
        key: post.get(key, "").strip()
        for key in (
            "address",
            "emergency_contact_name",
            "emergency_contact_relationship",
            "emergency_contact_phone",
        )
    }
    if any(contact.values()):
        sections["contact"] = contact
    conditions = post.getlist("conditions")
    other = _lines(post.get("history_other", ""))
    if post.get("history_none"):
        sections["medical_history"] = {"none_known": True, "conditions": conditions, "other": other}
    elif conditions or other:
        sections["medical_history"] = {"conditions": conditions, "other": other}
    medicines = [
        {"generic_name": r["name"], "dose": r["dose"], "frequency": r["frequency"]}
        for r in _rows(post, "med", ("name", "dose", "frequency"), MEDICINE_ROWS)
        if r["name"] or r["dose"] or r["frequency"]
    ]
    if post.get("medicines_none"):
        sections["medicines"] = {"none_known": True, "items": medicines}
    elif medicines:
        sections["medicines"] = {"items": medicines}
    allergies = [
        {"substance": r["substance"], "reaction": r["reaction"]}
        for r in _rows(post, "allergy", ("substance", "reaction"), ALLERGY_ROWS)
        if r["substance"] or r["reaction"]
    ]
    if post.get("allergies_none"):
        sections["allergies"] = {"none_known": True, "items": allergies}
    elif allergies:
        sections["allergies"] = {"items": allergies}
    return sections


def _form_context(post: QueryDict | None) -> dict[str, Any]:
    post = post or QueryDict()
    ticked = set(post.getlist("conditions"))
    return {
        "values": post,
        "conditions": [
            (code, condition_label(code), code in ticked) for code in medical_history_codes()
        ],
        "medicine_rows": [
            {"i": i, **row}
            for i, row in enumerate(
                _rows(post, "med", ("name", "dose", "frequency"), MEDICINE_ROWS)
            )
        ],
        "allergy_rows": [
            {"i": i, **row}
            for i, row in enumerate(_rows(post, "allergy", ("substance", "reaction"), ALLERGY_ROWS))
        ],
        "medicine_names": medicine_suggestions(),  # offered as they type; any name is accepted
        "idempotency_key": post.get("idempotency_key") or uuid.uuid4().hex,
    }


@require_http_methods(["GET", "POST"])
@portal_page
def portal_intake(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    """The intake forms: fill in, send; staff review them before anything enters the chart."""
    if link.purpose != PortalLinkPurpose.INTAKE:
        return redirect("portal_home", token=token)
    error = ""
    if request.method == "POST":
        try:
            portal.intake_form_submit(
                link=link,
                sections=_sections(request.POST),
                phone=request.POST.get("phone", ""),
                email=request.POST.get("email", ""),
                idempotency_key=request.POST.get("idempotency_key", ""),
                now=clock.now(),
                client_address=_address(request),
            )
        except KetaCareError as refusal:
            error = refusal.message
        else:
            return render(request, "followup/portal/intake_sent.html", _context(link, token))
    else:
        portal.portal_read_audit(
            link=link,
            object_type="portal_link",
            object_id=link.pk,
            client_address=_address(request),
        )
    return render(
        request,
        "followup/portal/intake.html",
        _context(link, token, error=error, **_form_context(request.POST if error else None)),
        status=422 if error else 200,
    )
