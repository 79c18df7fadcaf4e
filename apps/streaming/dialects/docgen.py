"""Seed 002/003's wire formats: named SSE events for document generation.

``/api/v1/chat/stream``: ``message {token, is_final}`` … ``done {full_response, sources,
metadata, is_final}`` or ``error {error, code, retry}``.
Legacy ``/api/v1/chat/generate``: ``token {token, index}`` … ``done {total_tokens,
duration_ms}`` or ``error {code, message}``.

The seed leaves ``full_response``, ``index``, ``total_tokens`` and ``duration_ms`` at 0 or "";
here they carry the real figures. Each encoder is a small state machine over one run's
canonical events (it needs the final text, the sources and the usage for ``done``) and does
no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from apps.core.errors import ApplicationError
from apps.engine import events as ev
from apps.engine.events import Event
from apps.knowledge.doc_types import UNSORTED
from apps.streaming.http import dumps

# Engine error codes (apps.engine.runner, apps.core.errors) that mean the model could not be
# reached or stopped answering: the seed's LLM_CONNECTION_ERROR / the legacy LLM_001.
LLM_CODES = frozenset({"model_unavailable", "provider_timeout", "stream_interrupted", "interrupted", "no_provider"})
LEGACY_LLM_CODES = LLM_CODES | {"provider_error"}
RAG_CODE = "RAG_RETRIEVAL_ERROR"


def frame(event: str, data: dict[str, Any], seq: int | None = None) -> bytes:
    head = b"id: %d\n" % seq if seq is not None else b""
    return head + b"event: %s\ndata: %s\n\n" % (event.encode(), dumps(data).encode())


def stream_error_code(code: str) -> str:
    """An engine error code as one of the seed's three."""
    if code == RAG_CODE:
        return "RAG_RETRIEVAL_ERROR"
    if code in LLM_CODES:
        return "LLM_CONNECTION_ERROR"
    return "STREAM_ERROR"


def legacy_error_code(code: str) -> str:
    """An engine error code in the legacy endpoint's spelling: RAG_001, LLM_001 or ERR."""
    if code == RAG_CODE:
        return "RAG_001"
    if code in LEGACY_LLM_CODES:
        return "LLM_001"
    return "ERR"


class StreamEncoder:
    """Canonical events → ``/api/v1/chat/stream`` frames (one instance per response)."""

    def __init__(self, *, doc_type: str, project_id: str, conversation_id: str) -> None:
        self.template = doc_type if doc_type and doc_type != UNSORTED else None
        self.sources: list[str] = [self.template] if self.template else []
        self.base_metadata: dict[str, Any] = {"template_used": self.template, "project_id": project_id,
                                              "conversation_id": conversation_id}
        self.text = ""
        self.usage: dict[str, Any] | None = None
        self.started: dict[str, Any] = {}

    def encode(self, event: Event) -> bytes:
        kind = event["type"]
        if kind == ev.MESSAGE_DELTA:
            return frame("message", {"token": event["delta"], "is_final": False}, event["seq"])
        if kind == ev.RUN_STARTED:
            self.started = {"model": event.get("model"), "provider": event.get("provider"),
                            "run_id": event.get("runId"), "chat_id": event.get("chatId")}
        elif kind == ev.RAG_SOURCES:
            for source in event.get("sources") or []:
                doc_type = source.get("docType")
                if doc_type and doc_type not in self.sources:
                    self.sources.append(doc_type)
        elif kind == ev.ASSISTANT_MESSAGE:
            self.text = event.get("text", "")
        elif kind == ev.USAGE_INFO:
            self.usage = {"input_tokens": event.get("inputTokens", 0), "output_tokens": event.get("outputTokens", 0),
                          "cost": event.get("cost", 0)}
        elif kind == ev.TASK_COMPLETE:
            metadata = {**self.base_metadata, **self.started, "usage": self.usage, "status": event.get("status")}
            return frame("done", {"full_response": self.text, "sources": self.sources, "metadata": metadata,
                                  "is_final": True}, event["seq"])
        elif kind == ev.ERROR:
            return frame("error", {"error": event.get("message", ""), "code": stream_error_code(event.get("error", "")),
                                   "retry": bool(event.get("retry"))}, event["seq"])
        return b""


class LegacyEncoder:
    """Canonical events → legacy ``/api/v1/chat/generate`` frames."""

    def __init__(self, *, started_at: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started_at = clock() if started_at is None else started_at
        self.index = 0
        self.output_tokens = 0

    def encode(self, event: Event) -> bytes:
        kind = event["type"]
        if kind == ev.MESSAGE_DELTA:
            data = frame("token", {"token": event["delta"], "index": self.index})
            self.index += 1
            return data
        if kind == ev.USAGE_INFO:
            self.output_tokens = int(event.get("outputTokens") or 0)
        elif kind == ev.TASK_COMPLETE:
            duration_ms = max(0, round((self.clock() - self.started_at) * 1000))
            return frame("done", {"total_tokens": self.output_tokens, "duration_ms": duration_ms})
        elif kind == ev.ERROR:
            code = legacy_error_code(event.get("error", ""))
            return frame("error", {"code": code, "message": event.get("message", "")})
        return b""


def http_error(exc: ApplicationError) -> ApplicationError:
    """An error before the stream as the seed's server answers it: a bad or missing key is 403
    (FastAPI's APIKeyHeader), a field the engine refused is a 422 entry naming it."""
    if exc.status == 401:
        return ApplicationError(exc.message, code=exc.code, status=403)
    if exc.status == 400 and "field" in exc.extra:
        field = str(exc.extra["field"])
        loc: list[Any] = ["body", *(_DOCGEN_FIELDS.get(field, field)).split(".")]
        return ApplicationError(exc.message, code=exc.code, status=422,
                                extra={"detail": [{"type": "value_error", "loc": loc, "msg": exc.message}]})
    return exc


_DOCGEN_FIELDS = {"docType": "doc_type", "text": "message"}


def error_body(exc: ApplicationError) -> dict[str, Any]:
    """FastAPI's shape: ``{"detail": [problems]}`` for 422, else ``{"detail": "message"}`` (+ our code)."""
    detail = exc.extra.get("detail")
    if isinstance(detail, list):
        return {"detail": detail}
    return {"detail": exc.message, "code": exc.code}
