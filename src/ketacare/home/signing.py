"""Pages: a form that signs carries `signing_secret`; a correct one stamps the request's actor.

The signing services refuse without the stamp (`accounts.reauth`); a wrong secret is counted,
audited on the clinic's trail, and said on the page. The secret itself is never kept.
"""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from ketacare.accounts.reauth import SIGNING_SECRET_FIELD, reauthenticate
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Refused


class SigningReauthMiddleware:
    """Re-authenticate a POST that carries a signing secret, before its view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor = getattr(request, "actor", None)
        if (
            actor is not None
            and request.method == "POST"
            and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
            and SIGNING_SECRET_FIELD in request.POST
        ):
            try:
                request.actor = reauthenticate(  # type: ignore[attr-defined]
                    actor=actor, secret=request.POST.get(SIGNING_SECRET_FIELD, "")
                )
            except Refused as refusal:
                audit_record(
                    actor=actor,
                    action=AuditAction.LOGIN_FAILED,
                    object_type="signing",
                    detail={"reauth": refusal.code, "path": request.path[:300]},
                )
                messages.error(request, refusal.message)
        return self.get_response(request)
