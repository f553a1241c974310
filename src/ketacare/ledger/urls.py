"""Ledger pages."""

from django.urls import path

from ketacare.ledger import report_views, views
from ketacare.ledger.reports import REPORTS

urlpatterns = [
    path("", views.stock, name="ledger_stock"),
    path("receive/", views.receive, name="ledger_receive"),
    path("containers/<int:container_id>/", views.container_detail, name="ledger_container"),
    path(
        "containers/<int:container_id>/destroy/",
        views.container_destroy,
        name="ledger_container_destroy",
    ),
    path("containers/<int:container_id>/loss/", views.container_loss, name="ledger_container_loss"),
    path(
        "containers/<int:container_id>/transfer/",
        views.container_transfer,
        name="ledger_container_transfer",
    ),
    path("opening/", views.opening, name="ledger_opening"),
    path("entries/<int:entry_id>/correct/", views.entry_correct, name="ledger_entry_correct"),
    path("sessions/<int:session_id>/", views.session_draws, name="ledger_session"),
    path("draws/<int:draw_id>/waste/", views.draw_waste, name="ledger_draw_waste"),
    path("draws/<int:draw_id>/return/", views.draw_return, name="ledger_draw_return"),
    path("count/", views.count, name="ledger_count"),
    path("discrepancies/", views.discrepancy_list, name="ledger_discrepancies"),
    path(
        "discrepancies/<int:discrepancy_id>/", views.discrepancy_detail, name="ledger_discrepancy"
    ),
    path("losses/", views.losses, name="ledger_losses"),
    path("losses/<int:theft_loss_id>/", views.loss_update, name="ledger_loss_update"),
    *(
        path(f"reports/{key}/", report_views.report, {"report": key}, name=f"ledger_report_{key}")
        for key in REPORTS
    ),
    path("reconcile/", report_views.reconcile, name="ledger_reconcile"),
    path("setup/", report_views.setup, name="ledger_setup"),
]
