"""Recovery pages."""

from django.urls import path

from ketacare.recovery import views, views_part2, views_plan

P = "patients/<int:patient_id>/"

urlpatterns = [
    path("", views.worklist, name="recovery_worklist"),
    path("refresh/", views.worklist_refresh, name="recovery_refresh"),
    path("outcome-tiles/", views.outcome_tiles, name="recovery_outcome_tiles"),
    path(P, views.patient_recovery, name="recovery_patient"),
    path(P + "panel/", views.chart_panel, name="recovery_panel"),
    path(P + "decide/", views.decide, name="recovery_decide"),
    path(P + "drug-screens/", views.drug_screen, name="recovery_drug_screen"),
    path(P + "requests/", views.session_request, name="recovery_session_request"),
    path(P + "plan/", views_plan.plan, name="recovery_plan"),
    path(P + "plan/write/", views_plan.plan_write, name="recovery_plan_write"),
    path(P + "plan/review/", views_plan.plan_review, name="recovery_plan_review"),
    path(P + "plan/print/", views_plan.plan_print, name="recovery_plan_print"),
    path(P + "programme/", views_part2.programme, name="recovery_programme"),
    path(P + "programme/start/", views_part2.programme_start, name="recovery_programme_start"),
    path(P + "programme/day/", views_part2.use_day, name="recovery_use_day"),
    path(P + "programme/withdrawal/", views_part2.withdrawal, name="recovery_withdrawal"),
    path(P + "part2/", views_part2.part2, name="recovery_part2"),
    path(P + "part2/consent/", views_part2.consent_record, name="recovery_consent"),
    path(P + "part2/revoke/", views_part2.consent_revoke, name="recovery_consent_revoke"),
    path(P + "part2/disclose/", views_part2.disclose, name="recovery_disclose"),
    path(P + "part2/accounting/", views_part2.accounting, name="recovery_accounting"),
]
