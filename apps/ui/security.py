"""The Content-Security-Policy of the UI's pages.

Scripts come only from our own static files (ES modules, no inline script, no eval). Styles
allow ``'unsafe-inline'`` because Mermaid writes a ``<style>`` element and ``style``
attributes into every diagram it draws; nothing else on the pages needs it.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def with_csp(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Add the UI's Content-Security-Policy (and a strict referrer policy) to a page view."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return wrapped
