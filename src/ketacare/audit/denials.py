"""Refused attempts go on the acting user's clinic trail: a 403, or a record of another clinic.

A page or an API call that is refused for want of a permission, or that names a record
belonging to another clinic (the tenancy guard answers 404), is written to the audit trail of
the clinic the user was acting in, so a clinic admin sees who tried what. A plain miss (no such
record anywhere) is not an attempt on anybody's data and is not recorded.
"""

from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from ketacare.accounts.access import Actor
from ketacare.accounts.tenancy import PATH_OBJECTS
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.kernel.bounds import parse_record_id


def other_clinic_targets(kwargs: dict[str, Any], clinic_id: int) -> list[dict[str, str]]:
    """The path's records that exist, but in another clinic than `clinic_id`."""
    found = []
    for parameter, value in kwargs.items():
        label = PATH_OBJECTS.get(parameter)
        if label is None:
            continue
        model = apps.get_model(label)
        manager = model._default_manager
        value = parse_record_id(value)  # "abc" or 2**70 names no row anywhere
        if value is None:
            continue
        if (
            manager.filter(pk=value).exists()
            and not manager.filter(pk=value, clinic_id=clinic_id).exists()
        ):
            found.append({"parameter": parameter, "object_type": model._meta.model_name or ""})
    return found


def denial_record(*, request: HttpRequest, actor: Actor | None, exc: Exception) -> None:
    """Record a refused request on the actor's clinic trail (anonymous callers are not audited)."""
    if actor is None:
        return
    match = getattr(request, "resolver_match", None)
    kwargs = dict(match.kwargs) if match is not None else {}
    detail: dict[str, Any] = {"method": request.method, "path": request.path[:300]}
    object_type, object_id = "", ""
    if isinstance(exc, PermissionDenied):
        detail["reason"] = "permission"
        detail["message"] = str(exc)[:300]
    elif isinstance(exc, Http404):
        targets = other_clinic_targets(kwargs, actor.clinic_id)
        if not targets:
            return
        detail["reason"] = "other_clinic"
        object_type = targets[0]["object_type"]
        object_id = str(kwargs[targets[0]["parameter"]])
    else:
        return
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )


class DenialAuditMiddleware:
    """Pages: record 403s and other-clinic 404s raised by the page guard or a view."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied | Http404):
            denial_record(request=request, actor=getattr(request, "actor", None), exc=exception)
