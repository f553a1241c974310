"""URL map: staff pages, the API under /api/v1/, and a health check."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from ninja.openapi.docs import Swagger

from ketacare.config.api import api
from ketacare.home import views as home_views
from ketacare.recovery import portal_views as recovery_portal


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for the reverse proxy and the demo's readiness check."""
    return HttpResponse("ok", content_type="text/plain")


@login_required
def api_docs(request: HttpRequest) -> HttpResponse:
    """The API's interactive docs: Swagger UI as shipped with django-ninja (no CDN)."""
    return Swagger().render_page(request, api)


urlpatterns = [
    path("", home_views.home, name="home"),
    path("login/", home_views.LoginView.as_view(), name="login"),
    path("logout/", home_views.LogoutView.as_view(), name="logout"),
    path("clinic/switch/", home_views.switch_clinic, name="switch_clinic"),
    path("", include("ketacare.home.mfa_urls")),
    path("account/signing-pin/", home_views.signing_pin, name="signing_pin"),
    path("patients/", include("ketacare.patients.urls")),
    path("audit/", include("ketacare.audit.urls")),
    path("screening/", include("ketacare.screening.urls")),
    path("consent/", include("ketacare.consent.urls")),
    path("schedule/", include("ketacare.scheduling.urls")),
    path("sessions/", include("ketacare.treatment.urls")),
    path("ledger/", include("ketacare.ledger.urls")),
    path("rems/", include("ketacare.rems.urls")),
    path("athome/", include("ketacare.athome.urls")),
    path("outcomes/", include("ketacare.outcomes.urls")),
    path("outcomes/", include("ketacare.followup.urls")),
    path("records/", include("ketacare.fhir.staff_urls")),
    path("recovery/", include("ketacare.recovery.urls")),
    # The patient portal: no staff session; a link's token is the key (own access rules).
    path("portal/record/", include("ketacare.fhir.record_urls")),
    path("portal/<str:token>/plan/", recovery_portal.portal_plan, name="portal_recovery_plan"),
    path(
        "portal/<str:token>/calendar/",
        recovery_portal.portal_calendar,
        name="portal_recovery_calendar",
    ),
    path("portal/", include("ketacare.athome.portal_urls")),
    path("portal/", include("ketacare.followup.portal_urls")),
    path("api/v1/docs", api_docs, name="api_docs"),
    path("api/v1/", api.urls),
    # FHIR R4 (bearer tokens with SMART-style scopes; own OperationOutcome errors).
    path("fhir/r4/", include("ketacare.fhir.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.KETACARE_BENCH_FLOOR:
    urlpatterns.append(path("bench/", include("ketacare.synth.urls")))

handler403 = "ketacare.home.views.permission_denied"
handler404 = "ketacare.home.views.not_found"
handler500 = "ketacare.home.views.server_error"
