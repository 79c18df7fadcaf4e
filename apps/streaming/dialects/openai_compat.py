"""OpenAI's Chat Completions wire format (``/v1``), from canonical events.

Streaming: ``data: {chat.completion.chunk}`` frames — the role in the first delta, text deltas,
client tool calls as ``tool_calls`` deltas, a last chunk with ``finish_reason``, a usage chunk
(``choices: []``) when ``stream_options.include_usage``, then ``data: [DONE]``. A run that ends
in an error sends ``data: {"error": {…}}`` instead, which the SDKs raise as ``APIError``.
Non-streaming: one ``chat.completion`` object built from the same events.

Only calls of the client's own tools (``tool.call`` with ``client: true``) reach the client;
Blueprint's tools (domain model, documents) run inside the turn and stay invisible here.
"""

from __future__ import annotations

import json
from typing import Any

from apps.core.errors import ApplicationError
from apps.engine import events as ev
from apps.engine.events import Event
from apps.streaming.http import dumps

DONE = b"data: [DONE]\n\n"

# Engine field names → the OpenAI parameter a client knows.
_PARAMS = {"maxTokens": "max_tokens", "text": "messages", "model": "model"}


def completion_id(run_id: str) -> str:
    return "chatcmpl-" + run_id.replace("-", "")


def usage_object(event: Event | None) -> dict[str, int]:
    prompt = int(event.get("inputTokens") or 0) if event else 0
    completion = int(event.get("outputTokens") or 0) if event else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def tool_call_object(event: Event) -> dict[str, Any]:
    arguments = event.get("arguments")
    if not isinstance(arguments, str):
        args = event.get("args")
        arguments = args if isinstance(args, str) else json.dumps(args if args is not None else {})
    return {"id": event["id"], "type": "function", "function": {"name": event["tool"], "arguments": arguments}}


def _is_client_call(event: Event) -> bool:
    return event["type"] == ev.TOOL_CALL and bool(event.get("client"))


def run_error(event: Event) -> ApplicationError:
    """A run's terminal ``error`` event as the error a non-streaming response reports."""
    code = str(event.get("error") or "internal_error")
    status = 400 if code == "provider_error" else 503 if event.get("retry") or code in (
        "no_provider", "RAG_RETRIEVAL_ERROR") else 500
    return ApplicationError(str(event.get("message") or "The run failed."), code=code, status=status)


class ChunkEncoder:
    """Canonical events → ``chat.completion.chunk`` SSE frames (one instance per response)."""

    def __init__(self, *, model: str, created: int, include_usage: bool = False) -> None:
        self.model = model
        self.created = created
        self.include_usage = include_usage
        self.tool_calls = 0
        self.usage: Event | None = None

    def _chunk(self, run_id: str, delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": completion_id(run_id), "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "system_fingerprint": None,
            "choices": [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None,
                                                  "finish_reason": finish}],
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def _frame(self, chunk: dict[str, Any]) -> bytes:
        return b"data: %s\n\n" % dumps(chunk).encode()

    def encode(self, event: Event) -> bytes:
        kind, run_id = event["type"], event["runId"]
        if kind == ev.MESSAGE_DELTA:
            return self._frame(self._chunk(run_id, {"content": event["delta"]}))
        if kind == ev.RUN_STARTED:
            return self._frame(self._chunk(run_id, {"role": "assistant", "content": ""}))
        if kind == ev.REASONING_DELTA:  # the field DeepSeek, vLLM and others stream reasoning in
            return self._frame(self._chunk(run_id, {"reasoning_content": event["delta"]}))
        if _is_client_call(event):
            call = {"index": self.tool_calls, **tool_call_object(event)}
            self.tool_calls += 1
            return self._frame(self._chunk(run_id, {"tool_calls": [call]}))
        if kind == ev.USAGE_INFO:
            self.usage = event
        elif kind == ev.TASK_COMPLETE:
            finish = "tool_calls" if self.tool_calls else "stop"
            data = self._frame(self._chunk(run_id, {}, finish))
            if self.include_usage:
                data += self._frame({**self._chunk(run_id, None), "usage": usage_object(self.usage)})
            return data + DONE
        elif kind == ev.ERROR:
            return b"data: %s\n\n" % dumps(error_body(run_error(event))).encode()
        return b""


def completion(events: list[Event], *, model: str, created: int) -> dict[str, Any]:
    """The ``chat.completion`` object of a finished run (its events up to the terminal one).

    Raises:
        ApplicationError: the run ended in an error.
    """
    terminal = events[-1]
    if terminal["type"] == ev.ERROR:
        raise run_error(terminal)
    text = next((e["text"] for e in events if e["type"] == ev.ASSISTANT_MESSAGE), None)
    if text is None:
        text = "".join(e["delta"] for e in events if e["type"] == ev.MESSAGE_DELTA)
    calls = [tool_call_object(e) for e in events if _is_client_call(e)]
    message: dict[str, Any] = {"role": "assistant", "content": text or (None if calls else ""), "refusal": None}
    if calls:
        message["tool_calls"] = calls
    usage = next((e for e in events if e["type"] == ev.USAGE_INFO), None)
    return {
        "id": completion_id(terminal["runId"]), "object": "chat.completion", "created": created, "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": usage_object(usage),
    }


def model_list(models: list[Any]) -> dict[str, Any]:
    """``GET /v1/models`` from registry ``ModelInfo``s."""
    return {"object": "list", "data": [model_object(info) for info in models]}


def model_object(info: Any) -> dict[str, Any]:
    return {"id": info.name, "object": "model", "created": 0, "owned_by": info.provider,
            "context_window": info.context_window, "max_output_tokens": info.max_output_tokens}


def http_error(exc: ApplicationError) -> ApplicationError:
    """OpenAI's statuses: an unknown model is 404, a quota or credit refusal 429."""
    if exc.code == "INVALID_MODEL":
        return ApplicationError(exc.message, code="model_not_found", status=404, extra=exc.extra)
    if exc.code == "credit_exhausted":
        return ApplicationError(exc.message, code="insufficient_quota", status=429, extra=exc.extra)
    return exc


_TYPES = {401: "invalid_request_error", 429: "requests", "insufficient_quota": "insufficient_quota"}
_CODES = {"unauthenticated": "invalid_api_key", "RATE_LIMITED": "rate_limit_exceeded",
          "invalid_request": "invalid_value"}


def error_body(exc: ApplicationError) -> dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}``; an unknown model also lists the usable ones."""
    kind = _TYPES.get(exc.code) or _TYPES.get(exc.status) or (
        "invalid_request_error" if exc.status < 500 else "server_error")
    field = exc.extra.get("field")
    param = _PARAMS.get(field, field) if isinstance(field, str) else None
    message = exc.message
    error: dict[str, Any] = {"message": message, "type": kind, "param": param, "code": _CODES.get(exc.code, exc.code)}
    available = exc.extra.get("availableModels")
    if isinstance(available, list):
        error["message"] = f"{message}. Available models: {', '.join(available)}."
        error["param"] = "model"
        error["available_models"] = available
    return {"error": error}
