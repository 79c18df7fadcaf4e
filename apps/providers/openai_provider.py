"""OpenAI Chat Completions streaming — also OpenRouter, Ollama, vLLM, LM Studio and any
OpenAI-compatible server, by base URL.

The SDK's own retries are off (``max_retries=0``): ``apps.providers.retry`` is the one retry
loop. The HTTP transport is aiohttp (``DefaultAioHttpClient``) unless the
``PROVIDER_HTTP_TRANSPORT`` setting says ``httpx``; see ``bench/providers_transport.py`` for
why (CPU per relayed token).
"""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import ChoiceDelta, ChoiceDeltaToolCall

from apps.providers.base import (
    ChatMessage,
    Finish,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
    ReasoningDelta,
    StreamMeta,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
)
from apps.providers.faults import (
    classify_error_type,
    classify_status,
    connection_error,
    error_type_from_body,
    malformed_stream,
    status_from_body,
)
from apps.providers.loop_local import LoopLocal

Flavour = Literal["openai", "openrouter", "compatible"]
Transport = Literal["aiohttp", "httpx"]

OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
# Placeholder key for local servers (Ollama, LM Studio) that ignore it; the SDK insists on one.
LOCAL_SERVER_KEY = "not-needed"
# OpenAI's reasoning models take no temperature and want max_completion_tokens.
_OPENAI_REASONING_PREFIXES = ("gpt-5", "gpt-6", "o1", "o3", "o4")
# Delta fields in which OpenAI-compatible servers stream reasoning text, in order of preference
# (DeepSeek and vLLM: reasoning_content; OpenRouter, Ollama and newer vLLM: reasoning).
_REASONING_FIELDS = ("reasoning_content", "reasoning")


class OpenAIProvider:
    """Streams one Chat Completions turn as normalised provider events.

    Args:
        name: the provider name the registry knows it by (``openai`` / ``openrouter``).
        api_key: the upstream key (a placeholder is used for keyless local servers).
        base_url: an OpenAI-compatible base URL; None for api.openai.com.
        flavour: ``openai`` (api.openai.com semantics), ``openrouter`` or ``compatible``.
        transport: ``aiohttp`` (default) or ``httpx``.
    """

    def __init__(self, *, name: str = "openai", api_key: str = "", base_url: str | None = None,
                 flavour: Flavour | None = None, transport: Transport = "aiohttp",
                 connect_timeout: float = 10.0, read_timeout: float = 600.0,
                 default_headers: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.api_key = api_key or LOCAL_SERVER_KEY
        self.base_url = base_url or None
        self.flavour: Flavour = flavour or _guess_flavour(self.base_url)
        self.transport = transport
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.default_headers = dict(default_headers or {})
        self._clients: LoopLocal[AsyncOpenAI] = LoopLocal(self._make_client)

    def _make_client(self) -> AsyncOpenAI:
        timeout = openai.Timeout(self.read_timeout, connect=self.connect_timeout)
        http_client = (openai.DefaultAioHttpClient(timeout=timeout) if self.transport == "aiohttp"
                       else openai.DefaultAsyncHttpxClient(timeout=timeout))
        return AsyncOpenAI(api_key=self.api_key, base_url=self.base_url, max_retries=0, timeout=timeout,
                           http_client=http_client, default_headers=self.default_headers or None)

    async def aclose(self) -> None:
        """Close the current event loop's HTTP client (tests and shutdown)."""
        client = self._clients.pop()
        if client is not None:
            await client.close()

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderEvent]:
        client = self._clients.get()
        params = self.request_params(request)
        try:
            # The SDK's generic POST (its documented way to send a body as is) rather than
            # ``chat.completions.create``, which first walks the whole body against its
            # TypedDicts — our system prompt, history and tool schemas — on every run, with
            # nothing to change in a body that is plain JSON already. Auth, headers, errors
            # and the streamed chunks are the SDK's own either way.
            stream = await client.post("/chat/completions", body=params, cast_to=ChatCompletion, stream=True,
                                       stream_cls=AsyncStream[ChatCompletionChunk])
        except Exception as exc:
            raise self.to_provider_error(exc) from exc
        # One generator from the SDK's chunks to our events: this loop runs once per token.
        try:
            request_id = stream.response.headers.get("x-request-id")
            if request_id:
                yield StreamMeta(request_id=request_id)
            calls = _ToolCallAssembler()
            finish: str | None = None
            usage_sent = False
            async for chunk in stream:
                if request_id is None and chunk.id:
                    request_id = chunk.id
                    yield StreamMeta(request_id=request_id)
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    delta = choice.delta
                    if delta.content and not delta.tool_calls and not delta.model_extra:
                        yield TextDelta(text=delta.content)  # the common case: text only
                    else:
                        for event in _delta_events(delta, calls):
                            yield event
                    if choice.finish_reason:
                        finish = choice.finish_reason
                        for event in calls.close_all():
                            yield event
                if chunk.usage is not None and not usage_sent:
                    usage_sent = True
                    yield Usage(input_tokens=chunk.usage.prompt_tokens or 0,
                                output_tokens=chunk.usage.completion_tokens or 0)
            if finish is None:
                # The body ended cleanly but the answer did not: never pass that off as complete.
                raise connection_error(f"{self.name}: the stream ended before a finish reason")
            for event in calls.close_all():
                yield event
            yield Finish(reason=finish)
        except ProviderError:
            raise
        except Exception as exc:
            raise self.to_provider_error(exc) from exc
        finally:
            # Closing the response closes its connection: the upstream sees the disconnect at
            # once when we are cancelled or the consumer stops early.
            await _close_quietly(stream)

    def request_params(self, request: ProviderRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": to_openai_messages(request),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            params["tools"] = [
                {"type": "function",
                 "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in request.tools]
            if request.tool_choice is not None:
                params["tool_choice"] = request.tool_choice
        reasoning_model = self.flavour == "openai" and request.model.startswith(_OPENAI_REASONING_PREFIXES)
        if request.temperature is not None and not reasoning_model:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            # api.openai.com deprecated max_tokens (reasoning models reject it); compatible
            # servers do not all know max_completion_tokens.
            key = "max_completion_tokens" if self.flavour == "openai" else "max_tokens"
            params[key] = request.max_tokens
        if request.reasoning:
            if reasoning_model:
                params["reasoning_effort"] = "medium"
            elif self.flavour == "openrouter":
                params["reasoning"] = {"enabled": True}  # OpenRouter's own field
        return params

    def to_provider_error(self, exc: BaseException) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        prefix = f"{self.name}: "
        if isinstance(exc, openai.APIStatusError):
            return classify_status(exc.status_code, prefix + _body_message(exc.body, exc.message),
                                   error_type=error_type_from_body(exc.body), headers=exc.response.headers)
        if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
            return connection_error(prefix + (str(exc.__cause__ or exc) or "connection error"))
        if isinstance(exc, openai.APIResponseValidationError):
            return malformed_stream(prefix + exc.message)
        if isinstance(exc, openai.APIError):
            # An error object sent inside the stream; its body is that object.
            body = {"error": exc.body} if isinstance(exc.body, Mapping) else exc.body
            message = prefix + _body_message(body, exc.message)
            status = status_from_body(body)
            if status is not None and status >= 400:
                return classify_status(status, message, error_type=error_type_from_body(body))
            return classify_error_type(exc.type or exc.code or error_type_from_body(body), message)
        if isinstance(exc, (OSError, asyncio.TimeoutError, EOFError)):
            return connection_error(prefix + (str(exc) or type(exc).__name__))
        if isinstance(exc, ValueError):  # undecodable JSON in a chunk
            return malformed_stream(prefix + f"malformed stream: {exc}")
        return ProviderError(prefix + f"{type(exc).__name__}: {exc}", code="upstream_error", retryable=False)


def to_openai_messages(request: ProviderRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for message in request.messages:
        messages.append(_to_openai_message(message))
    return messages


def _to_openai_message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {"role": "assistant", "content": message.content or None,
                "tool_calls": [{"id": call.id, "type": "function",
                                "function": {"name": call.name, "arguments": call.arguments or "{}"}}
                               for call in message.tool_calls]}
    if message.images and message.role == "user":
        # Content parts: the text, then each image as a data: URL (the vendor's documented order).
        parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
        parts += [{"type": "image_url", "image_url": {"url": image.data_url()}} for image in message.images]
        return {"role": "user", "content": parts}
    return {"role": message.role, "content": message.content}


def _delta_events(delta: ChoiceDelta, calls: _ToolCallAssembler) -> list[ProviderEvent]:
    events: list[ProviderEvent] = []
    extra = delta.model_extra or {}
    for field_name in _REASONING_FIELDS:
        reasoning = extra.get(field_name)
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(text=reasoning))
            break
    if delta.content:
        events.append(TextDelta(text=delta.content))
    if delta.tool_calls:
        events.extend(calls.feed(delta.tool_calls))
    return events


@dataclass
class _OpenCall:
    id: str
    name: str = ""
    pending: str = ""  # argument text that arrived before the name
    started: bool = False
    ended: bool = False


class _ToolCallAssembler:
    """Turns streamed tool-call deltas (keyed by index) into Start / Delta / End events.

    Tolerates what compatible servers do differently: the id repeated on every delta, a
    whole call in one delta, a new id at a reused index (a new call), arguments before the
    name.
    """

    def __init__(self) -> None:
        self._by_index: dict[int, _OpenCall] = {}
        self._order: list[_OpenCall] = []

    def feed(self, deltas: list[ChoiceDeltaToolCall]) -> list[ProviderEvent]:
        events: list[ProviderEvent] = []
        for delta in deltas:
            index = delta.index if isinstance(delta.index, int) else 0
            call = self._by_index.get(index)
            if call is not None and delta.id and delta.id != call.id:
                events.extend(self._end(call))
                call = None
            if call is None:
                call = _OpenCall(id=delta.id or f"call_{uuid.uuid4().hex[:24]}")
                self._by_index[index] = call
                self._order.append(call)
            function = delta.function
            if function is not None and function.name and not call.started:
                call.name += function.name
            arguments = function.arguments if function is not None else None
            if not call.started and call.name:
                call.started = True
                events.append(ToolCallStart(id=call.id, name=call.name))
                if call.pending:
                    events.append(ToolCallDelta(id=call.id, arguments_delta=call.pending))
                    call.pending = ""
            if arguments:
                if call.started:
                    events.append(ToolCallDelta(id=call.id, arguments_delta=arguments))
                else:
                    call.pending += arguments
        return events

    def _end(self, call: _OpenCall) -> list[ProviderEvent]:
        if call.ended:
            return []
        call.ended = True
        events: list[ProviderEvent] = []
        if not call.started:  # a call whose name never came: still surfaced, the engine refuses it
            call.started = True
            events.append(ToolCallStart(id=call.id, name=call.name))
            if call.pending:
                events.append(ToolCallDelta(id=call.id, arguments_delta=call.pending))
        events.append(ToolCallEnd(id=call.id))
        return events

    def close_all(self) -> list[ProviderEvent]:
        events: list[ProviderEvent] = []
        for call in self._order:
            events.extend(self._end(call))
        return events


def _guess_flavour(base_url: str | None) -> Flavour:
    if not base_url or "api.openai.com" in base_url:
        return "openai"
    if "openrouter.ai" in base_url:
        return "openrouter"
    return "compatible"


def _body_message(body: Any, fallback: str) -> str:
    if isinstance(body, Mapping):
        inner = body.get("error")
        source = inner if isinstance(inner, Mapping) else body
        message = source.get("message")
        if isinstance(message, str) and message:
            return message
    if isinstance(body, str) and body:
        return body[:500]
    return fallback


async def _close_quietly(stream: AsyncStream[ChatCompletionChunk]) -> None:
    """Close the response; a failure to close an abandoned stream changes nothing."""
    try:
        await stream.close()
    except Exception:  # noqa: BLE001 - the stream is being abandoned; a close error changes nothing
        pass
