"""The FHIR R4 HTTP interface under /fhir/r4/: JSON only, bearer tokens, OperationOutcomes."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ketacare.accounts.access import Actor
from ketacare.accounts.api_auth import BearerToken
from ketacare.clinical.recovery import REDISCLOSURE_NOTICE
from ketacare.fhir import bulk
from ketacare.fhir.capability import capability_statement
from ketacare.fhir.models import ExportStatus
from ketacare.fhir.registry import PART2_NOTICE_HEADER, BuildContext, Resource, carries_part2
from ketacare.fhir.scopes import Scopes
from ketacare.fhir.search import Page, SearchError
from ketacare.fhir.selectors import fhir_read, fhir_search, scopes_for_token
from ketacare.kernel import clock

FHIR_JSON = "application/fhir+json; charset=utf-8"
View = Callable[..., HttpResponseBase]


def fhir_response(body: Resource, status: int = 200, **headers: str) -> HttpResponse:
    """A FHIR JSON answer that no cache keeps; one holding Part 2 records carries the notice."""
    response = HttpResponse(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status=status,
        content_type=FHIR_JSON,
    )
    response["Cache-Control"] = "no-store"
    if carries_part2(body):
        response[PART2_NOTICE_HEADER] = REDISCLOSURE_NOTICE
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def operation_outcome(
    status: int, code: str, message: str, expression: str | None = None
) -> HttpResponse:
    """An OperationOutcome with one issue."""
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    response = fhir_response({"resourceType": "OperationOutcome", "issue": [issue]}, status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir_metadata")).removesuffix("metadata")


def fhir_endpoint(view: View) -> View:
    """Authenticate the bearer token; map refusals to OperationOutcomes (401/403/404/400)."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        actor = None
        if scheme.lower() == "bearer" and raw.strip():
            try:
                actor = BearerToken().authenticate(request, raw.strip())
            except PermissionDenied as error:
                return operation_outcome(403, "forbidden", str(error))
        if actor is None:
            return operation_outcome(401, "login", "Send Authorization: Bearer <token>.")
        try:
            scopes = scopes_for_token(raw.strip())
            return view(request, actor, scopes, *args, **kwargs)
        except SearchError as error:
            return operation_outcome(400, "invalid", error.message, error.parameter)
        except PermissionDenied as error:
            return operation_outcome(403, "forbidden", str(error) or "Not allowed.")
        except Http404 as error:
            return operation_outcome(404, "not-found", str(error) or "Not found.")

    return csrf_exempt(guarded)


def _context(request: HttpRequest, actor: Actor) -> BuildContext:
    return BuildContext(clinic=actor.clinic, base_url=base_url(request))


@require_http_methods(["GET"])
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement (public, as FHIR clients expect)."""
    return fhir_response(capability_statement(base_url(request)))


@require_http_methods(["GET"])
@fhir_endpoint
def read(
    request: HttpRequest, actor: Actor, scopes: Scopes, resource_type: str, rid: str
) -> HttpResponse:
    """GET [type]/[id]."""
    resource = fhir_read(
        actor=actor,
        scopes=scopes,
        type_name=resource_type,
        resource_id=rid,
        ctx=_context(request, actor),
    )
    return fhir_response(resource)


def _query(request: HttpRequest) -> dict[str, list[str]]:
    data = request.POST if request.method == "POST" else request.GET
    return {key: data.getlist(key) for key in data}


def _page_link(
    request: HttpRequest, resource_type: str, query: dict[str, list[str]], offset: int
) -> str:
    pairs = [(k, v) for k, values in query.items() if k != "_offset" for v in values]
    pairs.append(("_offset", str(offset)))
    return f"{base_url(request)}{resource_type}?{urlencode(pairs)}"


def searchset(
    request: HttpRequest,
    resource_type: str,
    query: dict[str, list[str]],
    page: Page,
    included: list[Resource],
) -> Resource:
    """A searchset Bundle with self, first, previous and next links."""
    base = base_url(request)
    links = [
        {"relation": "self", "url": _page_link(request, resource_type, query, page.offset)},
        {"relation": "first", "url": _page_link(request, resource_type, query, 0)},
    ]
    if page.count and page.offset + page.count < page.total:
        links.append(
            {
                "relation": "next",
                "url": _page_link(request, resource_type, query, page.offset + page.count),
            }
        )
    if page.offset > 0:
        links.append(
            {
                "relation": "previous",
                "url": _page_link(request, resource_type, query, max(page.offset - page.count, 0)),
            }
        )
    entries = [
        {
            "fullUrl": f"{base}{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in page.resources
    ] + [
        {
            "fullUrl": f"{base}{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "include"},
        }
        for r in included
    ]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "meta": {"lastUpdated": clock.wall_now().isoformat(timespec="seconds")},
        "total": page.total,
        "link": links,
        "entry": entries,
    }


@require_http_methods(["GET", "POST"])
@fhir_endpoint
def search(request: HttpRequest, actor: Actor, scopes: Scopes, resource_type: str) -> HttpResponse:
    """GET [type]?params, and POST [type]/_search with a form body."""
    query = _query(request)
    page, included, _ = fhir_search(
        actor=actor,
        scopes=scopes,
        type_name=resource_type,
        query=query,
        ctx=_context(request, actor),
    )
    return fhir_response(searchset(request, resource_type, query, page, included))


# --- Bulk Data --------------------------------------------------------------------------------


def _kickoff(
    request: HttpRequest, actor: Actor, scopes: Scopes, level: str, group_id: str = ""
) -> HttpResponse:
    if request.headers.get("Prefer", "respond-async").replace(" ", "") != "respond-async":
        return operation_outcome(400, "invalid", "Send Prefer: respond-async.", "Prefer")
    accept = request.headers.get("Accept", "application/fhir+json")
    if "fhir+json" not in accept and "json" not in accept and "*/*" not in accept:
        return operation_outcome(400, "invalid", "Accept application/fhir+json.", "Accept")
    parsed = bulk.export_request_parse(
        level=level, group_id=group_id, query=_query(request), actor=actor, scopes=scopes
    )
    job = bulk.export_kickoff(actor=actor, request=parsed, request_url=request.build_absolute_uri())
    status_url = request.build_absolute_uri(reverse("fhir_export_status", args=[job.pk]))
    response = HttpResponse(status=202)
    response["Content-Location"] = status_url
    return response


@require_http_methods(["GET", "POST"])
@fhir_endpoint
def export_system(request: HttpRequest, actor: Actor, scopes: Scopes) -> HttpResponse:
    """[base]/$export: everything the clinic holds."""
    return _kickoff(request, actor, scopes, "system")


@require_http_methods(["GET", "POST"])
@fhir_endpoint
def export_patients(request: HttpRequest, actor: Actor, scopes: Scopes) -> HttpResponse:
    """[base]/Patient/$export: every patient's compartment."""
    return _kickoff(request, actor, scopes, "patient")


@require_http_methods(["GET", "POST"])
@fhir_endpoint
def export_group(request: HttpRequest, actor: Actor, scopes: Scopes, group: str) -> HttpResponse:
    """[base]/Group/[id]/$export: the compartments of a group's patients."""
    return _kickoff(request, actor, scopes, "group", group)


@require_http_methods(["GET", "DELETE"])
@fhir_endpoint
def export_status(request: HttpRequest, actor: Actor, scopes: Scopes, job: int) -> HttpResponse:
    """Poll: 202 while running, 200 with the manifest when done, 500 outcome when failed."""
    if request.method == "DELETE":
        bulk.export_cancel(actor=actor, job_id=job)
        return HttpResponse(status=202)
    found = bulk.export_job_for_actor(actor=actor, job_id=job)
    if found.status in {ExportStatus.ACCEPTED, ExportStatus.RUNNING}:
        response = HttpResponse(status=202)
        response["X-Progress"] = found.status
        response["Retry-After"] = "5"
        return response
    if found.status == ExportStatus.FAILED:
        return operation_outcome(500, "exception", f"The export failed: {found.error}")
    output = [
        {
            "type": f.resource_type,
            "url": request.build_absolute_uri(reverse("fhir_export_file", args=[found.pk, f.pk])),
            "count": f.count,
            "extension": {"sha256": f.sha256, "size": f.size},
        }
        for f in found.files.all()
    ]
    manifest = {
        "transactionTime": found.transaction_time.isoformat(),
        "request": found.request_url,
        "requiresAccessToken": True,
        "output": output,
        "error": [],
        "extension": {"expires": found.expires_at.isoformat() if found.expires_at else None},
    }
    response = HttpResponse(json.dumps(manifest), content_type="application/json")
    response["Expires"] = (
        found.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT") if (found.expires_at) else ""
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET"])
@fhir_endpoint
def export_file(
    request: HttpRequest, actor: Actor, scopes: Scopes, job: int, file: int
) -> FileResponse:
    """One NDJSON file of a finished export (the same token that asked for it)."""
    found = bulk.export_file_for_actor(actor=actor, job_id=job, file_id=file)
    response = FileResponse(open(found.path, "rb"), content_type="application/fhir+ndjson")  # noqa: SIM115
    response["Cache-Control"] = "no-store"
    return response
