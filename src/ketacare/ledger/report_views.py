"""Ledger reports on screen, as CSV and printable; the reconcile page; the setup page."""

import csv
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.kernel.clinic_time import in_clinic_time
from ketacare.ledger import selectors, services
from ketacare.ledger.forms import (
    ProductForm,
    RegistrationForm,
    ReportForm,
    StorageForm,
    choices_of,
    set_choices,
)
from ketacare.ledger.reports import REPORTS
from ketacare.ledger.views.common import attempt
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.htmx import render_page

# A spreadsheet must not run a cell as a formula (CSV injection): such cells get a quote first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@clinic_view(Permission.LEDGER_REPORT)
@in_clinic_time
def report(request: HttpRequest, report: str) -> HttpResponse:
    """One report for a period and product: on screen, `?format=csv`, or `?format=print`."""
    if report not in REPORTS:
        raise Http404("No such report.")
    actor = actor_of(request)
    _, _, products = selectors.setup_of(actor=actor)
    today = selectors.clinic_today(actor)
    asked = any(name in request.GET for name in ("since", "until", "product"))
    form = ReportForm(
        request.GET if asked else None,
        initial={"since": today - timedelta(days=30), "until": today},
    )
    set_choices(form, "product", [("", "All products"), *choices_of(products)])
    since, until, product_id = today - timedelta(days=30), today, None
    status = 200
    if asked:
        if form.is_valid():
            since, until = form.cleaned_data["since"], form.cleaned_data["until"]
            product_id = form.cleaned_data["product"]
            if until < since:
                form.add_error("until", "The end is before the start.")
                status = 422
        else:
            status = 422
    table = REPORTS[report](actor=actor, since=since, until=until, product_id=product_id)
    output = request.GET.get("format", "")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT if output == "csv" else AuditAction.LIST,
        object_type=f"ledger_report:{report}",
        detail={"since": since.isoformat(), "until": until.isoformat(), "rows": len(table.rows)},
    )
    if output == "csv" and status == 200:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{report}-{since.isoformat()}-{until.isoformat()}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(table.columns)
        writer.writerows([_cell(v) for v in row] for row in table.rows)
        return response
    template = "ledger/report_print.html" if output == "print" else "ledger/report.html"
    return render_page(
        request,
        template,
        {
            "report": table,
            "form": form,
            "since": since,
            "until": until,
            "query": request.GET.urlencode(),
            "reports": [(key, key.replace("_", " ")) for key in REPORTS],
            "clinic": actor.clinic,
        },
        status=status,
    )


@clinic_view(Permission.LEDGER_REPORT)
@in_clinic_time
def reconcile(request: HttpRequest) -> HttpResponse:
    """Doses given without a ledger entry, and ledger administrations without a dose."""
    actor = actor_of(request)
    result = selectors.reconcile_clinic(clinic_id=actor.clinic_id)
    audit_record(actor=actor, action=AuditAction.LIST, object_type="ledger_reconcile")
    return render_page(request, "ledger/reconcile.html", {"result": result})


@clinic_view(Permission.LEDGER_MANAGE)
@in_clinic_time
def setup(request: HttpRequest) -> HttpResponse:
    """The clinic's DEA registrations, storage places and products."""
    actor = actor_of(request)
    registrations, storage, products = selectors.setup_of(actor=actor)
    which = request.POST.get("form", "")
    forms: dict[str, Any] = {
        "registration": RegistrationForm(request.POST if which == "registration" else None),
        "storage": StorageForm(request.POST if which == "storage" else None),
        "product": ProductForm(request.POST if which == "product" else None),
    }
    forms["storage"].fields["registration_id"].choices = choices_of(registrations)
    calls: dict[str, Callable[..., Any]] = {
        "registration": services.registration_create,
        "storage": services.storage_create,
        "product": services.product_create,
    }
    status = 200
    if request.method == "POST" and which in forms:
        form = forms[which]
        status = 422
        if form.is_valid():
            done, status = attempt(form, lambda: calls[which](actor=actor, **form.cleaned_data))
            if done is not None:
                messages.success(request, f"Added {done}.")
                return redirect("ledger_setup")
    return render_page(
        request,
        "ledger/setup.html",
        {
            "registrations": registrations,
            "storage": storage,
            "products": products,
            **{f"{name}_form": form for name, form in forms.items()},
        },
        status=status,
    )
