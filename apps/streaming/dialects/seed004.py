"""Seed 004's wire format (simple chat): one JSON completion, or SSE ``{content, sessionId}`` frames.

Pure: the completion is folded from a run's canonical events; the SSE encoder is a
small stateful object (it remembers the usage event for the final ``done`` frame).
A session is a chat: ``sessionId`` is the chat's id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apps.engine import events as ev
from apps.engine.events import Event
from apps.streaming.dialects.seed000 import error_object
from apps.streaming.http import dumps

# Body fields only seed 004 uses on ``POST /api/chat``: their presence asks for its JSON answer.
SEED004_FIELDS = ("projectId", "provider", "systemPrompt", "maxTokens", "sessionId")


def _media_types(accept: str) -> set[str]:
    return {part.split(";", 1)[0].strip().lower() for part in accept.split(",") if part.strip()}


def wants_json(accept: str, body: dict[str, Any]) -> bool:
    """Whether ``POST /api/chat`` answers with seed 004's JSON completion (else seed 000's SSE).

    In order: a boolean ``stream`` field decides; then an Accept header naming
    ``text/event-stream`` (SSE) or ``application/json`` (JSON); then (``*/*`` or no
    Accept, as curl and fetch send) any field only seed 004 uses asks for JSON.
    """
    stream = body.get("stream")
    if isinstance(stream, bool):
        return not stream
    types = _media_types(accept)
    if "text/event-stream" in types:
        return False
    if "application/json" in types:
        return True
    return any(name in body for name in SEED004_FIELDS)


def usage_body(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"promptTokens": input_tokens, "completionTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens}


@dataclass
class Completion:
    """A run folded into seed 004's completion (``add`` each event, in seq order)."""

    session_id: str
    message_id: str = ""
    model: str = ""
    provider: str = ""
    deltas: list[str] = field(default_factory=list)
    text: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    status: str | None = None  # completed | stopped, once the run ended without an error
    error: dict[str, Any] | None = None  # the terminal error event's fields

    def add(self, event: Event) -> None:
        kind = event["type"]
        if kind == ev.RUN_STARTED:
            self.message_id = str(event.get("assistantMessageId", ""))
            self.model = str(event.get("model", ""))
            self.provider = str(event.get("provider", ""))
        elif kind == ev.MESSAGE_DELTA:
            self.deltas.append(event["delta"])
        elif kind == ev.ASSISTANT_MESSAGE:
            self.text = event.get("text", "")
        elif kind == ev.USAGE_INFO:
            self.input_tokens = int(event.get("inputTokens") or 0)
            self.output_tokens = int(event.get("outputTokens") or 0)
        elif kind == ev.TASK_COMPLETE:
            self.status = str(event.get("status", "completed"))
        elif kind == ev.ERROR:
            self.error = {"code": event.get("error", "error"), "message": event.get("message", ""),
                          "retry": bool(event.get("retry", False))}

    @property
    def content(self) -> str:
        return self.text if self.text is not None else "".join(self.deltas)

    def body(self, created_at: datetime) -> dict[str, Any]:
        """The seed's response object (plus ``status`` when a stop cut the answer short)."""
        body: dict[str, Any] = {
            "id": self.message_id,
            "sessionId": self.session_id,
            "content": self.content,
            "role": "assistant",
            "model": self.model,
            "provider": self.provider,
            "usage": usage_body(self.input_tokens, self.output_tokens),
            "createdAt": created_at.isoformat().replace("+00:00", "Z"),
        }
        if self.status == "stopped":
            body["status"] = "stopped"
        return body


def sse_data(data: dict[str, Any], seq: int) -> bytes:
    return b"id: %d\ndata: %s\n\n" % (seq, dumps(data).encode())


class SseEncoder:
    """Seed 004's stream: ``{content, sessionId}`` per text delta, ``{reasoning, sessionId}`` per
    reasoning delta, then ``{done: true, sessionId, id, usage}`` or ``{error: {…}, sessionId}``."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.message_id = ""
        self.usage: dict[str, int] | None = None

    def frame(self, event: Event) -> dict[str, Any] | None:
        kind = event["type"]
        if kind == ev.MESSAGE_DELTA:
            return {"content": event["delta"], "sessionId": self.session_id}
        if kind == ev.REASONING_DELTA:
            return {"reasoning": event["delta"], "sessionId": self.session_id}
        if kind == ev.RUN_STARTED:
            self.message_id = str(event.get("assistantMessageId", ""))
            return None
        if kind == ev.USAGE_INFO:
            self.usage = usage_body(int(event.get("inputTokens") or 0), int(event.get("outputTokens") or 0))
            return None
        if kind == ev.TASK_COMPLETE:
            done: dict[str, Any] = {"done": True, "sessionId": self.session_id, "id": self.message_id}
            if self.usage is not None:
                done["usage"] = self.usage
            if event.get("status") == "stopped":
                done["status"] = "stopped"
            return done
        if kind == ev.ERROR:
            error = {**error_object(event.get("error", "error"), event.get("message", "")),
                     "retry": bool(event.get("retry", False))}
            return {"error": error, "sessionId": self.session_id}
        return None

    def __call__(self, event: Event) -> bytes:
        data = self.frame(event)
        return sse_data(data, event["seq"]) if data is not None else b""
