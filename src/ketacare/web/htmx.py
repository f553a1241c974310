"""Render a whole page or, for an htmx request, only the fragment it asked for."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Full page normally; `partial` (a template) when htmx asks for a fragment."""
    if partial and getattr(request, "htmx", False):
        return render(request, partial, context, status=status)
    return render(request, template, context, status=status)
