"""Ledger pages for the movements other than a dose: a transfer between storage (both ends),
the opening balance of a container already on the shelf, and the correction of an entry.

An adjustment after a count is made where the count's discrepancy is resolved
(`pages.discrepancy_detail`): the balance it should be, a reason and a co-signer.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.ledger import selectors, services
from ketacare.ledger.forms import (
    CorrectionForm,
    OpeningForm,
    TransferForm,
    choices_of,
    set_choices,
)
from ketacare.ledger.views.common import attempt
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


@clinic_view(Permission.LEDGER_RECEIVE)
@in_clinic_time
def container_transfer(request: HttpRequest, container_id: int) -> HttpResponse:
    """Move a container to other storage: an entry out of where it was and one into where it
    goes, each location's stock line following it."""
    actor = actor_of(request)
    container = selectors.container_get_for_actor(actor=actor, container_id=container_id)
    registrations, storage, _ = selectors.setup_of(actor=actor)
    form = TransferForm(
        request.POST or None, initial={"to_registration_id": container.registration_id}
    )
    set_choices(
        form,
        "to_registration_id",
        choices_of(registrations, lambda r: f"{r.name} (DEA {r.dea_number})"),
    )
    set_choices(
        form,
        "to_storage_id",
        choices_of(
            [s for s in storage if s.pk != container.storage_id],
            lambda s: f"{s.name} ({s.get_kind_display()}) at {s.registration.name}",
        ),
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            done, status = attempt(
                form,
                lambda: services.transfer_record(
                    actor=actor, container_id=container_id, **form.cleaned_data
                ),
            )
            if done is not None:
                _, arrived = done
                messages.success(
                    request,
                    f"Moved {container.label} ({arrived.amount.normalize():f} {arrived.unit}).",
                )
                return redirect("ledger_container", container_id=container_id)
    return render_page(
        request,
        "ledger/container_form.html",
        {"container": container, "form": form, "title": "Move to other storage"},
        status=status,
    )


@clinic_view(Permission.LEDGER_COUNT)
@in_clinic_time
def opening(request: HttpRequest) -> HttpResponse:
    """Bring a container already on the shelf into the ledger with its opening balance."""
    actor = actor_of(request)
    registrations, storage, products = selectors.setup_of(actor=actor)
    form = OpeningForm(request.POST or None)
    set_choices(form, "registration_id", choices_of(registrations))
    set_choices(form, "storage_id", choices_of(storage))
    set_choices(
        form,
        "product_id",
        choices_of(products, lambda p: f"{p.name} {p.strength} (NDC {p.ndc}, in {p.unit})"),
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            entry, status = attempt(
                form, lambda: services.opening_record(actor=actor, **form.cleaned_data)
            )
            if entry is not None:
                messages.success(
                    request,
                    f"Opening balance recorded: {entry.amount.normalize():f} {entry.unit}.",
                )
                return redirect("ledger_container", container_id=entry.container_id)
    return render_page(request, "ledger/opening.html", {"form": form}, status=status)


@clinic_view(Permission.LEDGER_ADJUST)
@in_clinic_time
def entry_correct(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Correct an entry: a new entry that points at it, with a reason and a co-signature."""
    actor = actor_of(request)
    entry = selectors.entry_get_for_actor(actor=actor, entry_id=entry_id)
    if entry.patient_id is not None:
        # The entry names a patient (a draw, a dose, a waste): reading it is on the trail.
        audit_record(
            actor=actor, action=AuditAction.READ, object_type="ledger_entry",
            object_id=entry.pk, patient_id=entry.patient_id,
        )  # fmt: skip
    form = CorrectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            done, status = attempt(
                form,
                lambda: services.entry_correct(actor=actor, entry_id=entry_id, **form.cleaned_data),
            )
            if done is not None:
                messages.success(request, f"Entry #{entry.seq} corrected by entry #{done.seq}.")
                return redirect("ledger_container", container_id=entry.container_id)
    return render_page(
        request, "ledger/entry_correct.html", {"entry": entry, "form": form}, status=status
    )
