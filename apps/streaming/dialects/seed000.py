"""Seed 000's wire format (DSL chat): ``{"type": "text" | "dsl" | "phase" | "done" | "error", "content": …}``.

Pure mappings from canonical events (SPEC §3) to seed-000 frames, used by the SSE
endpoints and the WebSocket alike. Events the seed has no frame for (run.started, tool
calls, sources, usage …) are left out. The same error mapping serves the HTTP error body
``{"error": {"code", "message", …}}`` that every ``/api/chat`` dialect of this module
family answers before a stream starts.
"""

from __future__ import annotations

from typing import Any

from apps.core.errors import ApplicationError
from apps.engine import events as ev
from apps.engine.events import Event
from apps.streaming.http import dumps

# Our stable codes → the seed's upper-case ones. RATE_LIMITED and INVALID_MODEL are already ours.
_LLM_CODES = frozenset({"no_provider", "model_unavailable", "provider_error", "provider_timeout",
                        "stream_interrupted", "interrupted", "connection_error", "timeout",
                        "authentication_failed", "bad_request"})
_REQUEST_CODES = frozenset({"invalid_request", "malformed_json", "payload_too_large", "invalid_mode"})

# What to check when a provider is not configured (the seed's "Check your OPENROUTER_API_KEY").
_PROVIDER_HINTS = {"openai": "OPENAI_API_KEY or OPENAI_BASE_URL", "anthropic": "ANTHROPIC_API_KEY",
                   "openrouter": "OPENROUTER_API_KEY"}


def error_code(code: str) -> str:
    """The seed-000 code for one of our error codes."""
    if code in ("RATE_LIMITED", "INVALID_MODEL"):
        return code
    if code == "rate_limited":  # the provider's, after our retries
        return "RATE_LIMITED"
    if code in _LLM_CODES or code.startswith("provider_") or code.startswith("upstream_"):
        return "LLM_ERROR"
    if code in _REQUEST_CODES:
        return "INVALID_REQUEST"
    return code.upper()


def error_object(code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"code", "message", …}`` with the seed's code and its companion field."""
    extra = dict(extra or {})
    mapped = error_code(code)
    body: dict[str, Any] = {"code": mapped, "message": message}
    if mapped == "LLM_ERROR":
        provider = extra.pop("provider", None)
        hint = _PROVIDER_HINTS.get(str(provider)) if provider else None
        body["details"] = f"Check your {hint}" if hint and code == "no_provider" else code
        extra.pop("model", None)
    body.update(extra)
    return body


def error_body(exc: ApplicationError) -> dict[str, Any]:
    """The HTTP error before a stream: ``{"error": {"code", "message", "retryAfter" | "availableModels" | …}}``."""
    return {"error": error_object(exc.code, exc.message, exc.extra)}


def frame(kind: str, content: Any) -> dict[str, Any]:
    return {"type": kind, "content": content}


def chat_frame(chat_id: str) -> dict[str, Any]:
    """The first frame of a chat the request created."""
    return frame("chat", {"chatId": chat_id})


def dsl_content(event: Event) -> dict[str, Any]:
    domain = event.get("domainModel") or {}
    return {
        "entities": domain.get("entities", {}),
        "relationships": domain.get("relationships", []),
        "phase": event.get("phase"),
        "readiness": event.get("readiness"),
        "confidence": event.get("confidence"),
    }


def event_frame(event: Event, *, enable_dsl: bool = True) -> dict[str, Any] | None:
    """The seed-000 frame for a canonical event, or None when the seed has none for it."""
    kind = event["type"]
    if kind == ev.MESSAGE_DELTA:
        return frame("text", event["delta"])
    if kind == ev.DSL_UPDATE:
        return frame("dsl", dsl_content(event)) if enable_dsl else None
    if kind == ev.DSL_PHASE:
        return frame("phase", event["phase"]) if enable_dsl else None
    if kind == ev.TASK_COMPLETE:
        done = frame("done", "")
        if event.get("status") == "stopped":
            done["stopped"] = True  # beyond the seed: a stop ends the answer early
        return done
    if kind == ev.ERROR:
        return frame("error", {**error_object(event.get("error", "error"), event.get("message", "")),
                               "retry": bool(event.get("retry", False))})
    return None


def sse_frame(data: dict[str, Any], seq: int | None = None) -> bytes:
    head = b"id: %d\n" % seq if seq is not None else b""
    return head + b"data: " + dumps(data).encode() + b"\n\n"


class SseEncoder:
    """Encodes a run's events as seed-000 SSE frames, each with ``id: <seq>`` for Last-Event-ID."""

    def __init__(self, *, enable_dsl: bool = True) -> None:
        self.enable_dsl = enable_dsl

    def __call__(self, event: Event) -> bytes:
        data = event_frame(event, enable_dsl=self.enable_dsl)
        return sse_frame(data, event["seq"]) if data is not None else b""


def ws_frame(event: Event, *, enable_dsl: bool = True) -> dict[str, Any] | None:
    """The WebSocket frame: the SSE frame's JSON plus ``id`` (the event's seq), to resume after."""
    data = event_frame(event, enable_dsl=enable_dsl)
    if data is None:
        return None
    return {**data, "id": event["seq"]}


def history_message(message: Any) -> dict[str, Any]:
    """One stored message of a chat's history (a ``Message``-like object)."""
    return {
        "id": str(message.id),
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "createdAt": message.created_at.isoformat(),
    }


def history_frame(chat_id: str, messages: list[Any], *, has_more: bool, run_id: str | None) -> dict[str, Any]:
    """The chat's stored history; ``runId`` names the run that continues live after it (or None)."""
    return frame(
        "history",
        {"chatId": chat_id, "messages": [history_message(m) for m in messages], "hasMore": has_more,
         "activeRunId": run_id},
    )
