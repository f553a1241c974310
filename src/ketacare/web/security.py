"""Security middleware: the input gate, and the headers every answer carries.

The gate refuses what no field may hold before any view runs: control characters in a query
or form parameter (400 naming it), an API body that is not JSON (415), and answers a page's
malformed parameter (`BadParameter`) with 400 naming it. The headers: a strict
Content-Security-Policy on every answer, and `Cache-Control: no-store` on every answer that
is not a static file, so patient data is never kept by a browser or a shared cache.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from ketacare.kernel.bounds import BadParameter, first_control_character_field

# Scripts and styles only from our own origin (htmx and ketacare.js are vendored): no inline script,
# no eval, no CDN, no plugins, no framing, forms only to ourselves.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Styles only from our stylesheets: no style attribute, no <style> block (a template
        # test keeps it so), so injected markup cannot restyle a page to mislead.
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
API_PREFIX = "/api/"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# An empty form body (what some clients send with a bodiless POST) carries no data to misread.
FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


def _refuse(request: HttpRequest, field: str, message: str, status: int) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            {
                "detail": f"Invalid input — {field}: {message}",
                "errors": [{"field": field, "message": message}],
            },
            status=status,
        )
    if status == 400:
        return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain")
    return HttpResponse(f"{field}: {message}", status=status, content_type="text/plain")


class InputGateMiddleware:
    """Refuse control characters in parameters and non-JSON API bodies before any view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = first_control_character_field(request.GET)
        if field is not None:
            return _refuse(request, field, "must not contain control characters", 400)
        if request.path.startswith(API_PREFIX):
            if request.method in BODY_METHODS and request.META.get("CONTENT_LENGTH", "0") not in {
                "",
                "0",
            }:
                content_type = request.content_type or ""
                empty_form = content_type in FORM_TYPES and not request.POST and not request.FILES
                if content_type != "application/json" and not empty_form:
                    return _refuse(
                        request, "body", "send JSON with Content-Type: application/json", 415
                    )
        elif request.method == "POST":
            field = first_control_character_field(request.POST)
            if field is not None:
                return _refuse(request, field, "must not contain control characters", 400)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BadParameter):
            return _refuse(request, exception.field, exception.message, 400)
        return None


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every answer; `Cache-Control: no-store` on every dynamic one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # Dynamic answers carry patient data or a session; none may be stored.
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response
