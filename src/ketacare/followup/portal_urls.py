"""The patient portal, under /portal/: every page takes the link's token first."""

from django.urls import path

from ketacare.followup import portal_intake, portal_views

urlpatterns = [
    path("<str:token>/", portal_views.portal_home, name="portal_home"),
    path("<str:token>/journal/", portal_views.portal_journal, name="portal_journal"),
    path("<str:token>/intake/", portal_intake.portal_intake, name="portal_intake"),
    path("<str:token>/q/<int:assignment>/", portal_views.portal_resume, name="portal_resume"),
    path(
        "<str:token>/q/<int:assignment>/review/",
        portal_views.portal_review,
        name="portal_review",
    ),
    path(
        "<str:token>/q/<int:assignment>/<int:item>/",
        portal_views.portal_item,
        name="portal_item",
    ),
]
