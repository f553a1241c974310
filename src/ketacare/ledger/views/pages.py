"""Ledger pages: stock, a container, receiving, a session's draws, counts and discrepancies."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.ledger import deadline_state
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.ledger import selectors, services
from ketacare.ledger.forms import (
    CountForm,
    DestroyForm,
    DrawForm,
    LossForm,
    LossUpdateForm,
    ReceiveForm,
    ResolveForm,
    ReturnForm,
    WasteForm,
    choices_of,
    set_choices,
)
from ketacare.ledger.services.counts import CountedLine
from ketacare.ledger.sessions import session_source
from ketacare.ledger.views.common import attempt
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page


@clinic_view(Permission.LEDGER_VIEW)
@in_clinic_time
def stock(request: HttpRequest) -> HttpResponse:
    """What is on the shelf: balances per product and location, every container, open items."""
    actor = actor_of(request)
    return render_page(
        request,
        "ledger/stock.html",
        {
            "balances": selectors.stock_balances(actor=actor),
            "containers": list(selectors.containers_in_stock(actor=actor)),
            "open_draws": selectors.open_draws(actor=actor),
            "open_discrepancies": selectors.discrepancies(actor=actor, open_only=True),
        },
    )


@clinic_view(Permission.LEDGER_VIEW)
@in_clinic_time
def container_detail(request: HttpRequest, container_id: int) -> HttpResponse:
    """One container: its balance and every entry with the running balance."""
    actor = actor_of(request)
    container = selectors.container_get_for_actor(actor=actor, container_id=container_id)
    entries = selectors.entries_of_container(container=container)
    # The entries name the patients dosed from the container: the read is on the trail.
    audit_record(
        actor=actor, action=AuditAction.LIST, object_type="ledger_container",
        object_id=container.pk,
        detail={"patient_ids": sorted({e.patient_id for e in entries if e.patient_id})},
    )  # fmt: skip
    return render_page(
        request,
        "ledger/container.html",
        {
            "container": container,
            "entries": entries,
            "shown": selectors.ENTRIES_SHOWN,
            "discrepancies": [d for d in container.discrepancies.all() if d.resolved_at is None],
            "destroy_form": DestroyForm(auto_id="destroy_%s"),
            "loss_form": LossForm(auto_id="loss_%s"),
        },
    )


@clinic_view(Permission.LEDGER_RECEIVE)
@in_clinic_time
def receive(request: HttpRequest) -> HttpResponse:
    """Receive a delivery of sealed containers."""
    actor = actor_of(request)
    registrations, storage, products = selectors.setup_of(actor=actor)
    form = ReceiveForm(request.POST or None, initial={"received_on": selectors.clinic_today(actor)})
    set_choices(form, "registration_id", choices_of(registrations))
    set_choices(form, "storage_id", choices_of(storage))
    set_choices(form, "product_id", choices_of(products))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            receipt, status = attempt(
                form, lambda: services.receipt_record(actor=actor, **form.cleaned_data)
            )
            if receipt is not None:
                messages.success(request, f"Received {form.cleaned_data['containers']} containers.")
                return redirect("ledger_stock")
    return render_page(request, "ledger/receive.html", {"form": form}, status=status)


@clinic_view(Permission.LEDGER_DRAW)
@in_clinic_time
def session_draws(request: HttpRequest, session_id: int) -> HttpResponse:
    """A session's controlled substance: draw for the dose, then waste or return what is left."""
    actor = actor_of(request)
    fact = session_source().session(clinic_id=actor.clinic_id, session_id=session_id)
    audit_record(
        actor=actor, action=AuditAction.READ, object_type="ledger_session", object_id=session_id,
        patient_id=fact.patient_id if fact else None,
    )  # fmt: skip
    containers = selectors.drawable_containers(actor=actor)
    draw_form = DrawForm(request.POST or None)
    set_choices(
        draw_form,
        "container_id",
        choices_of(
            containers,
            lambda c: (
                f"{c.label} · {c.product.name} {c.product.strength} · lot {c.lot.number} · "
                f"{c.balance.normalize():f} {c.product.unit} left"
            ),
        ),
    )
    status = 200
    if request.method == "POST":
        status = 422
        if draw_form.is_valid():
            draw, status = attempt(
                draw_form,
                lambda: services.draw_create(
                    actor=actor, session_id=session_id, **draw_form.cleaned_data
                ),
            )
            if draw is not None:
                messages.success(request, f"Drew {draw.drawn.normalize():f} {draw.unit}.")
                return redirect("ledger_session", session_id=session_id)
    return render_page(
        request,
        "ledger/session.html",
        {
            "session_id": session_id,
            "fact": fact,
            "draws": [
                (d, WasteForm(auto_id=f"waste{d.pk}_%s"), ReturnForm(auto_id=f"return{d.pk}_%s"))
                for d in selectors.draws_of_session(actor=actor, session_id=session_id)
            ],
            "draw_form": draw_form,
        },
        status=status,
    )


def _draw_step(
    request: HttpRequest, draw_id: int, form_class: type[forms.Form], step: str
) -> HttpResponse:
    actor = actor_of(request)
    draw = selectors.draw_get_for_actor(actor=actor, draw_id=draw_id)
    form = form_class(request.POST)
    status = 422
    if form.is_valid():
        call = services.draw_waste if step == "waste" else services.draw_return
        done, status = attempt(
            form, lambda: call(actor=actor, draw_id=draw_id, **form.cleaned_data)
        )
        if done is not None:
            messages.success(request, f"Recorded the {step}.")
            return redirect("ledger_session", session_id=draw.session_id)
    return render_page(
        request, "ledger/draw_step.html", {"draw": draw, "form": form, "step": step}, status=status
    )


@clinic_view(Permission.LEDGER_DRAW)
@require_POST
@in_clinic_time
def draw_waste(request: HttpRequest, draw_id: int) -> HttpResponse:
    """Waste the rest of a draw before a witness."""
    return _draw_step(request, draw_id, WasteForm, "waste")


@clinic_view(Permission.LEDGER_DRAW)
@require_POST
@in_clinic_time
def draw_return(request: HttpRequest, draw_id: int) -> HttpResponse:
    """Return the unused rest of a draw to stock."""
    return _draw_step(request, draw_id, ReturnForm, "return")


@clinic_view(Permission.LEDGER_COUNT)
@in_clinic_time
def count(request: HttpRequest) -> HttpResponse:
    """Count stock with a second person: a shift count, or the initial or biennial inventory."""
    actor = actor_of(request)
    registrations, _, _ = selectors.setup_of(actor=actor)
    chosen = request.GET.get("registration") or request.POST.get("registration_id")
    registration = next((r for r in registrations if str(r.pk) == chosen), None) or (
        registrations[0] if registrations else None
    )
    containers = [
        c
        for c in selectors.containers_in_stock(actor=actor)
        if registration and c.registration_id == registration.pk
    ]
    form = CountForm(request.POST or None, containers=containers)
    status = 200
    if request.method == "POST" and registration is not None:
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            lines = [
                CountedLine(c.pk, data[f"counted_{c.pk}"], bool(data[f"measured_{c.pk}"]))
                for c in containers
                if data.get(f"counted_{c.pk}") is not None
            ]
            done, status = attempt(
                form,
                lambda: services.count_record(
                    actor=actor,
                    registration_id=registration.pk,
                    kind=data["kind"],
                    timing=data["timing"],
                    second_username=data["second_username"],
                    second_password=data["second_password"],
                    lines=lines,
                ),  # fmt: skip
            )
            if done is not None:
                found = sum(1 for line in done.lines.all() if line.discrepancy_id)
                messages.success(
                    request,
                    f"Count recorded: {len(lines)} containers, {found} discrepancies opened.",
                )
                return redirect("ledger_discrepancies" if found else "ledger_stock")
    rows = [(c, form[f"counted_{c.pk}"], form[f"measured_{c.pk}"]) for c in containers]
    return render_page(
        request,
        "ledger/count.html",
        {"form": form, "rows": rows, "registration": registration, "registrations": registrations},
        status=status,
    )


@clinic_view(Permission.LEDGER_VIEW)
@in_clinic_time
def discrepancy_list(request: HttpRequest) -> HttpResponse:
    """Every discrepancy, open ones first."""
    found = selectors.discrepancies(actor=actor_of(request))
    found.sort(key=lambda d: d.resolved_at is not None)
    return render_page(request, "ledger/discrepancies.html", {"discrepancies": found})


@clinic_view(Permission.LEDGER_VIEW)
@in_clinic_time
def discrepancy_detail(request: HttpRequest, discrepancy_id: int) -> HttpResponse:
    """One discrepancy and, while open, the form that resolves it."""
    actor = actor_of(request)
    discrepancy = selectors.discrepancy_get_for_actor(actor=actor, discrepancy_id=discrepancy_id)
    form = ResolveForm(request.POST or None)
    status = 200
    if request.method == "POST":
        actor.require(Permission.LEDGER_ADJUST)
        status = 422
        if form.is_valid():
            done, status = attempt(
                form,
                lambda: services.discrepancy_resolve(
                    actor=actor, discrepancy_id=discrepancy_id, **form.cleaned_data
                ),
            )
            if done is not None:
                messages.success(request, "Discrepancy resolved.")
                return redirect("ledger_container", container_id=discrepancy.container_id)
    return render_page(
        request, "ledger/discrepancy.html", {"d": discrepancy, "form": form}, status=status
    )


@clinic_view(Permission.LEDGER_DESTROY)
@require_POST
@in_clinic_time
def container_destroy(request: HttpRequest, container_id: int) -> HttpResponse:
    """Destroy stock before two witnesses, or send it to a reverse distributor."""
    actor = actor_of(request)
    container = selectors.container_get_for_actor(actor=actor, container_id=container_id)
    form = DestroyForm(request.POST)
    status = 422
    if form.is_valid():
        data = dict(form.cleaned_data)
        distributor = {
            "name": data.pop("distributor_name"),
            "address": data.pop("distributor_address"),
            "dea_number": data.pop("distributor_dea_number"),
        }
        done, status = attempt(
            form,
            lambda: services.destruction_record(
                actor=actor,
                container_id=container_id,
                reverse_distributor=distributor if distributor["name"] else None,
                **data,
            ),  # fmt: skip
        )
        if done is not None:
            messages.success(request, f"Recorded: {done.get_kind_display().lower()}.")
            return redirect("ledger_container", container_id=container_id)
    return render_page(
        request,
        "ledger/container_form.html",
        {"container": container, "form": form, "title": "Destroy or send to a reverse distributor"},
        status=status,
    )


@clinic_view(Permission.LEDGER_ADJUST)
@require_POST
@in_clinic_time
def container_loss(request: HttpRequest, container_id: int) -> HttpResponse:
    """Report a theft or loss from a container (DEA Form 106 data and deadlines)."""
    actor = actor_of(request)
    container = selectors.container_get_for_actor(actor=actor, container_id=container_id)
    form = LossForm(request.POST)
    status = 422
    if form.is_valid():
        done, status = attempt(
            form,
            lambda: services.theft_loss_record(
                actor=actor, container_id=container_id, **form.cleaned_data
            ),
        )
        if done is not None:
            messages.success(
                request,
                f"Recorded. Notice to DEA due {done.notice_due_on:%Y-%m-%d}; Form 106 due "
                f"{done.form_106_due_on:%Y-%m-%d}.",
            )
            return redirect("ledger_losses")
    return render_page(
        request,
        "ledger/container_form.html",
        {"container": container, "form": form, "title": "Report a theft or loss"},
        status=status,
    )


@clinic_view(Permission.LEDGER_VIEW)
@in_clinic_time
def losses(request: HttpRequest) -> HttpResponse:
    """Theft and loss reports with their deadlines."""
    actor = actor_of(request)
    today = selectors.clinic_today(actor)
    rows = [
        (
            r,
            deadline_state(due=r.notice_due_on, done_on=r.notice_sent_on, today=today),
            deadline_state(due=r.form_106_due_on, done_on=r.form_106_filed_on, today=today),
            LossUpdateForm(auto_id=f"loss{r.pk}_%s"),
        )
        for r in selectors.theft_loss_reports(actor=actor)
    ]
    return render_page(request, "ledger/losses.html", {"rows": rows})


@clinic_view(Permission.LEDGER_ADJUST)
@require_POST
@in_clinic_time
def loss_update(request: HttpRequest, theft_loss_id: int) -> HttpResponse:
    """Record the notice sent and the Form 106 filed."""
    actor = actor_of(request)
    form = LossUpdateForm(request.POST)
    if form.is_valid():
        _, status = attempt(
            form,
            lambda: services.theft_loss_update(
                actor=actor, theft_loss_id=theft_loss_id, **form.cleaned_data
            ),
        )
        if status == 200:
            messages.success(request, "Recorded.")
            return redirect("ledger_losses")
    messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("ledger_losses")
