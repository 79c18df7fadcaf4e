"""Seed 001's wire format: the canonical events themselves, one JSON object per SSE frame."""

from __future__ import annotations

from typing import Any

from apps.core.errors import ApplicationError
from apps.engine.events import Event
from apps.streaming.http import dumps


def encode_sse(event: Event) -> bytes:
    # JSON never contains a raw newline, so one data: line carries the whole event.
    return b"id: %d\ndata: %s\n\n" % (event["seq"], dumps(event).encode())


def error_body(exc: ApplicationError) -> dict[str, Any]:
    """Seed 001 errors: ``{"error": "<code>", "message": …}`` (+ retryAfter, field …)."""
    return {"error": exc.code, "message": exc.message, **exc.extra}


def error_frame(exc: ApplicationError) -> dict[str, Any]:
    """A WebSocket answer to a frame that could not be acted on (not a run event)."""
    return {"type": "error", "error": exc.code, "message": exc.message, "retry": exc.retry, **exc.extra}
