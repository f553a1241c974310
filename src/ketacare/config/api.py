"""The one NinjaAPI: routers per app, and every error mapped to HTTP in one place."""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from ketacare.accounts.access import Actor
from ketacare.accounts.api_auth import BearerToken
from ketacare.audit.denials import denial_record
from ketacare.clinical import ClinicalError
from ketacare.errors import KetaCareError

api = NinjaAPI(
    title="KetaCare API",
    version="1",
    description=(
        "The KetaCare REST API. Authenticate with `Authorization: Bearer <token>` "
        "(`ketacare token create USERNAME`). Every operation names the permission it needs "
        "as `x-permission`; records of other clinics answer 404. KetaCare supports "
        "clinicians' decisions and does not replace them."
    ),
    auth=BearerToken(),
    urls_namespace="api",
)


def _actor_or_none(request: HttpRequest) -> Actor | None:
    actor = getattr(request, "actor", None)
    return actor if isinstance(actor, Actor) else None


def _field_from_location(location: list[Any] | tuple[Any, ...]) -> str:
    # ninja reports ("body", "payload", "date_of_birth"); the field is what follows the parameter.
    parts = [str(p) for p in location]
    if len(parts) >= 3 and parts[0] in {"body", "query", "path", "form"}:
        parts = parts[2:]
    elif parts and parts[0] in {"body", "query", "path", "form"}:
        parts = parts[1:]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        field = _field_from_location(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "extra_forbidden":
            message = "unknown field"
        if error.get("type") == "missing":
            message = "this field is required"
        errors.append({"field": field, "message": message})
    summary = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
    return api.create_response(
        request, {"detail": f"Invalid input — {summary}", "errors": errors}, status=422
    )


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": "The request body is too large.",
            "errors": [{"field": "body", "message": "too large"}],
        },
        status=413,
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "Authentication required: send Authorization: Bearer <token>."},
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    denial_record(request=request, actor=_actor_or_none(request), exc=exc)
    return api.create_response(request, {"detail": str(exc) or "Not allowed."}, status=403)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    denial_record(request=request, actor=_actor_or_none(request), exc=exc)
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(KetaCareError)
def on_refused(request: HttpRequest, exc: KetaCareError) -> HttpResponse:
    body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["errors"] = [{"field": exc.field, "message": exc.message}]
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(ClinicalError)
def on_clinical_error(request: HttpRequest, exc: ClinicalError) -> HttpResponse:
    field = getattr(exc, "field", None)
    body: dict[str, Any] = {"detail": str(exc), "code": type(exc).__name__}
    if field:
        body["errors"] = [{"field": field, "message": str(exc)}]
    return api.create_response(request, body, status=422)


def _register_routers() -> None:
    from ketacare.consent.api import router as consent_router
    from ketacare.followup.api import router as followup_router
    from ketacare.outcomes.api import router as outcomes_router
    from ketacare.patients.api import router as patients_router
    from ketacare.scheduling.api import router as scheduling_router
    from ketacare.screening.api import router as screening_router
    from ketacare.treatment.api import router as treatment_router

    for router in (
        patients_router,
        screening_router,
        consent_router,
        scheduling_router,
        treatment_router,
        outcomes_router,
        followup_router,
    ):
        api.add_router("/", router)


_register_routers()
