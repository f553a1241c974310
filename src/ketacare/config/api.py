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

# Every operation may answer these; the document says so, with the one error shape they share.
ERROR_RESPONSES = {
    "400": "A parameter is malformed (named in errors[].field).",
    "401": "No valid bearer token.",
    "403": "The role may not do this (x-permission).",
    "404": "No such record in the caller's clinic.",
    "409": "The record changed since it was read (stale version) or the action conflicts.",
    "413": "The request body is too large.",
    "415": "The body is not JSON (Content-Type: application/json).",
    "422": "Invalid input or a refused action (errors[].field names the field).",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


# Clinic hours are local wall-clock times: JSON Schema's "time" would demand an offset.
LOCAL_TIME = {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"}


def _local_times(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time":
            del node["format"]
            node.update(LOCAL_TIME)
            node.setdefault("description", "Clinic-local time of day, without an offset.")
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


class KetaCareAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document also lists every error an operation can answer."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for methods in schema["paths"].values():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_RESPONSES.items():
                    responses.setdefault(status, {"description": description, "content": error})
        _local_times(schema)
        return schema


api = KetaCareAPI(
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
    # The interactive docs are served by config/urls.py, for signed-in staff only.
    docs_url=None,
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
    from ketacare.recovery.api import router as recovery_router
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
        recovery_router,
    ):
        api.add_router("/", router)


_register_routers()
