"""Staff pages of the at-home programme: the board, one programme, refill and review, printing."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.athome import selectors, services
from ketacare.athome.models import VisitModality
from ketacare.athome.pdf import prescription_pdf
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.ledger import Unit
from ketacare.errors import KetaCareError
from ketacare.ledger.selectors import drawable_containers
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


@clinic_view(Permission.ATHOME_VIEW)
def board(request: HttpRequest) -> HttpResponse:
    """The programme board: each patient's next dose, last home BP, tracker, supply, flags."""
    rows = selectors.programme_board(actor=actor_of(request))
    return render_page(request, "athome/board.html", {"rows": rows})


@clinic_view(Permission.ATHOME_VIEW)
def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    """One programme: prescriptions, doses with gate and tracker, reviews, supply, refills."""
    actor = actor_of(request)
    programme = selectors.programme_get_for_actor(actor=actor, programme_id=programme_id)
    context = {
        "programme": programme,
        "prescriptions": list(programme.prescriptions.select_related("prescriber")),
        "doses": list(programme.doses.prefetch_related("checkins")),
        "reviews": list(programme.reviews.select_related("reviewed_by")),
        "refills": list(programme.refills.select_related("decided_by")),
        "status_changes": list(programme.status_changes.select_related("decided_by")),
        "steps": list(programme.steps.select_related("decided_by").order_by("decided_at", "id")),
        "supply": selectors.supply_of(programme.pk),
        # containers of lozenges the clinic could fill the prescription from (the core checks
        # the strength when it is filled)
        "home_containers": [
            c for c in drawable_containers(actor=actor) if c.product.unit == Unit.LOZENGE
        ]
        if actor.can(Permission.LEDGER_DRAW)
        else [],
        "modalities": VisitModality.choices,
        "today": selectors.clinic_day(actor.clinic.time_zone),
    }
    return render_page(request, "athome/programme.html", context)


@clinic_view(Permission.ATHOME_PRESCRIBE)
@require_POST
def refill(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Ask the refill gate; released or refused with the reason."""
    try:
        services.refill_release(
            actor=actor_of(request),
            programme_id=programme_id,
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
        messages.success(request, "Refill released.")
    except KetaCareError as refusal:
        messages.error(request, f"Refill refused: {refusal.message}")
    return redirect("athome_programme", programme_id=programme_id)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return -1


@clinic_view(Permission.ATHOME_REVIEW)
@require_POST
def review(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Record a follow-up visit with its modality and the supply counted at home."""
    try:
        reviewed_on = date.fromisoformat(request.POST.get("reviewed_on", ""))
    except ValueError:
        messages.error(request, "Enter the visit's date.")
        return redirect("athome_programme", programme_id=programme_id)
    try:
        services.review_record(
            actor=actor_of(request),
            programme_id=programme_id,
            reviewed_on=reviewed_on,
            modality=request.POST.get("modality", ""),
            note=request.POST.get("note", "")[:5000],
            counted_units=_int(request.POST.get("counted_units")),
        )
        messages.success(request, "Follow-up review recorded.")
    except KetaCareError as refusal:
        messages.error(request, refusal.message)
    return redirect("athome_programme", programme_id=programme_id)


@clinic_view(Permission.ATHOME_VIEW)
def prescription_print(request: HttpRequest, prescription_id: int) -> HttpResponse:
    """The signed prescription as a PDF to print."""
    actor = actor_of(request)
    rx = selectors.prescription_get_for_actor(actor=actor, prescription_id=prescription_id)
    audit_record(
        actor=actor, action=AuditAction.EXPORT, object_type="home_prescription",
        object_id=rx.pk, patient_id=rx.patient_id,
    )  # fmt: skip
    response = HttpResponse(prescription_pdf(rx), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="prescription-{rx.pk}.pdf"'
    return response
