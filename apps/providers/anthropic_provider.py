"""Anthropic Messages streaming: text, extended thinking, tool use, usage.

Mid-stream ``error`` events reach us as ``APIStatusError`` with ``status_code == 200``
(anthropic-sdk-python #1258), so faults are classified on the error *type* when the status
says nothing. The SDK reads the stream body without wrapping transport errors, so a dropped
connection can surface as a bare ``httpx2`` error: that is a connection error too.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, Literal, cast

import anthropic
import httpx2
from anthropic import AsyncAnthropic, AsyncStream
from anthropic.types import RawMessageStreamEvent

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
)
from apps.providers.loop_local import LoopLocal

Transport = Literal["aiohttp", "httpx"]

MIN_THINKING_BUDGET = 1024  # the API's floor for thinking.budget_tokens
ADAPTIVE_THINKING_FROM = (4, 6)  # Claude versions that take thinking.type "adaptive"
LAST_SAMPLING_VERSION = (4, 6)  # later models reject temperature / top_p / top_k
_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls",
                 "max_tokens": "length", "refusal": "content_filter"}


class AnthropicProvider:
    """Streams one Messages turn as normalised provider events.

    Args:
        api_key: the Anthropic key.
        base_url: another Messages-compatible endpoint (tests, proxies); None for the API.
        transport: ``aiohttp`` (default) or ``httpx``.
        default_max_tokens: ``max_tokens`` when the request sets none (the API requires one),
            capped by the model's own limit from ``max_output_tokens``.
        thinking_budget: ``budget_tokens`` for extended thinking (at least 1024).
        max_output_tokens: upstream model id → its output-token limit.
    """

    name = "anthropic"

    def __init__(self, *, api_key: str, base_url: str | None = None, transport: Transport = "aiohttp",
                 connect_timeout: float = 10.0, read_timeout: float = 600.0,
                 default_max_tokens: int = 16_384, thinking_budget: int = 4096,
                 max_output_tokens: Mapping[str, int] | None = None) -> None:
        self.api_key = api_key
        self.base_url = base_url or None
        self.transport = transport
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.default_max_tokens = default_max_tokens
        self.thinking_budget = max(MIN_THINKING_BUDGET, thinking_budget)
        self.max_output_tokens = dict(max_output_tokens or {})
        self._clients: LoopLocal[AsyncAnthropic] = LoopLocal(self._make_client)

    def _make_client(self) -> AsyncAnthropic:
        timeout = anthropic.Timeout(self.read_timeout, connect=self.connect_timeout)
        http_client = (anthropic.DefaultAioHttpClient(timeout=timeout) if self.transport == "aiohttp"
                       else anthropic.DefaultAsyncHttpxClient(timeout=timeout))
        return AsyncAnthropic(api_key=self.api_key, base_url=self.base_url, max_retries=0, timeout=timeout,
                              http_client=http_client)

    async def aclose(self) -> None:
        """Close the current event loop's HTTP client (tests and shutdown)."""
        client = self._clients.pop()
        if client is not None:
            await client.close()

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderEvent]:
        client = self._clients.get()
        try:
            stream = cast(AsyncStream[RawMessageStreamEvent],
                          await client.messages.create(**self.request_params(request)))
        except Exception as exc:
            raise self.to_provider_error(exc) from exc
        events = self._events(stream)
        try:
            async for event in events:
                yield event
        except ProviderError:
            raise
        except Exception as exc:
            raise self.to_provider_error(exc) from exc
        finally:
            # Closing the response closes its connection, so the upstream sees the disconnect.
            await events.aclose()
            await _close_quietly(stream)

    async def _events(self, stream: AsyncStream[RawMessageStreamEvent]) -> AsyncGenerator[ProviderEvent, None]:
        request_id = stream.response.headers.get("request-id")
        if request_id:
            yield StreamMeta(request_id=request_id)
        input_tokens = output_tokens = 0
        tool_blocks: dict[int, str] = {}  # content block index → tool_use id
        tool_has_input: dict[int, bool] = {}
        stop_reason: str | None = None
        stopped = False
        async for event in stream:
            if event.type == "message_start":
                usage = event.message.usage
                input_tokens = _input_tokens(usage)
                output_tokens = usage.output_tokens
                if request_id is None:
                    request_id = event.message.id
                    yield StreamMeta(request_id=request_id)
            elif event.type == "content_block_start":
                block = event.content_block
                if block.type == "tool_use":
                    tool_blocks[event.index] = block.id
                    tool_has_input[event.index] = False
                    yield ToolCallStart(id=block.id, name=block.name)
                elif block.type == "text" and block.text:
                    yield TextDelta(text=block.text)
                elif block.type == "thinking" and block.thinking:
                    yield ReasoningDelta(text=block.thinking)
            elif event.type == "content_block_delta":
                delta = event.delta
                if delta.type == "text_delta":
                    if delta.text:
                        yield TextDelta(text=delta.text)
                elif delta.type == "thinking_delta":
                    if delta.thinking:
                        yield ReasoningDelta(text=delta.thinking)
                elif delta.type == "input_json_delta" and event.index in tool_blocks:
                    if delta.partial_json:
                        tool_has_input[event.index] = True
                        yield ToolCallDelta(id=tool_blocks[event.index], arguments_delta=delta.partial_json)
            elif event.type == "content_block_stop":
                tool_id = tool_blocks.pop(event.index, None)
                if tool_id is not None:
                    if not tool_has_input.pop(event.index, False):
                        # A call without arguments streams no JSON; its arguments are {}.
                        yield ToolCallDelta(id=tool_id, arguments_delta="{}")
                    yield ToolCallEnd(id=tool_id)
            elif event.type == "message_delta":
                stop_reason = event.delta.stop_reason
                output_tokens = event.usage.output_tokens
                if event.usage.input_tokens is not None:
                    input_tokens = _input_tokens(event.usage)
            elif event.type == "message_stop":
                stopped = True
        if not stopped:
            raise connection_error("anthropic: the stream ended before message_stop")
        for tool_id in tool_blocks.values():  # blocks the stream never closed
            yield ToolCallEnd(id=tool_id)
        yield Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        yield Finish(reason=_STOP_REASONS.get(stop_reason or "end_turn", stop_reason or "stop"))

    def request_params(self, request: ProviderRequest) -> dict[str, Any]:
        system, messages = to_anthropic_messages(request)
        version = claude_version(request.model)
        model_limit = self.max_output_tokens.get(request.model)
        max_tokens = request.max_tokens or self.default_max_tokens
        if model_limit:
            max_tokens = min(max_tokens, model_limit)
        params: dict[str, Any] = {"model": request.model, "messages": messages, "stream": True}
        if system:
            params["system"] = system
        if request.tools:
            params["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                               for t in request.tools]
            choice = anthropic_tool_choice(request.tool_choice)
            if choice is not None:
                params["tool_choice"] = choice
        thinking = request.reasoning and not _continues_tool_turn(request.messages)
        if thinking and version is not None and version >= ADAPTIVE_THINKING_FROM:
            # Claude 4.6+ decides how much to think; 4.7+ and 5 reject a fixed budget.
            params["thinking"] = {"type": "adaptive", "display": "summarized"}
        elif thinking:
            # budget_tokens counts inside max_tokens and must be >= 1024 and < max_tokens: the
            # budget is added on top so the visible answer keeps the length asked for, within
            # the model's limit.
            budget = self.thinking_budget
            total = max_tokens + budget
            if model_limit:
                total = min(total, model_limit)
                budget = min(budget, total - 1)
            if budget >= MIN_THINKING_BUDGET:
                params["thinking"] = {"type": "enabled", "budget_tokens": budget}
                max_tokens = total
            else:
                thinking = False
        params["max_tokens"] = max_tokens
        sampling = version is None or version <= LAST_SAMPLING_VERSION
        if request.temperature is not None and sampling and not thinking:
            # The API deprecated sampling parameters (models after Opus 4.6 reject them) and the
            # SDK dropped them from its signature; older models still take them in the body.
            # Thinking allows none. Clamped to Anthropic's 0–1 range.
            params["extra_body"] = {"temperature": min(request.temperature, 1.0)}
        return params

    def to_provider_error(self, exc: BaseException) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        prefix = "anthropic: "
        if isinstance(exc, anthropic.APIStatusError):
            error_type = error_type_from_body(exc.body)
            message = prefix + _body_message(exc.body, exc.message)
            if exc.status_code < 400:  # an error event inside a 200 stream
                return classify_error_type(error_type, message, headers=exc.response.headers)
            return classify_status(exc.status_code, message, error_type=error_type,
                                   headers=exc.response.headers)
        if isinstance(exc, anthropic.APIConnectionError):  # includes APITimeoutError
            return connection_error(prefix + (str(exc.__cause__ or exc) or "connection error"))
        if isinstance(exc, anthropic.APIResponseValidationError):
            return malformed_stream(prefix + exc.message)
        if isinstance(exc, anthropic.APIError):
            return classify_error_type(error_type_from_body(exc.body), prefix + exc.message)
        if isinstance(exc, (httpx2.TransportError, OSError, asyncio.TimeoutError, EOFError)):
            return connection_error(prefix + (str(exc) or type(exc).__name__))
        if isinstance(exc, ValueError):  # undecodable JSON in an event
            return malformed_stream(prefix + f"malformed stream: {exc}")
        return ProviderError(prefix + f"{type(exc).__name__}: {exc}", code="upstream_error", retryable=False)


def to_anthropic_messages(request: ProviderRequest) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt and the Messages-API turns for a request.

    System messages join the system prompt. Tool results become ``tool_result`` blocks of a
    user turn, assistant tool calls ``tool_use`` blocks; consecutive turns of one role merge,
    so every tool result lands in the user turn right after the call it answers.
    """
    system_parts = [request.system] if request.system else []
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            if message.content:
                system_parts.append(message.content)
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        # Tool results must open their user turn.
        turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return "\n\n".join(system_parts), turns


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [{"type": "tool_result", "tool_use_id": message.tool_call_id or "",
                 "content": message.content}]
    blocks: list[dict[str, Any]] = []
    if message.role == "user":
        # Images before the text that talks about them, as Anthropic's guide recommends.
        blocks.extend({"type": "image", "source": {"type": "base64", "media_type": image.media_type,
                                                   "data": image.base64()}} for image in message.images)
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    if message.role == "assistant":
        for call in message.tool_calls:
            blocks.append({"type": "tool_use", "id": call.id, "name": call.name,
                           "input": _arguments_object(call.arguments)})
    return blocks


def claude_version(model: str) -> tuple[int, int] | None:
    """(major, minor) from a Claude model id, whichever order it uses; None when it has none.

    ``claude-sonnet-4-6`` → (4, 6), ``claude-3-5-sonnet-latest`` → (3, 5),
    ``claude-opus-4-20250514`` → (4, 0): an 8-digit date is not a version.
    """
    numbers = [int(part) for part in model.split("-") if part.isdigit() and len(part) < 8]
    if not numbers:
        return None
    return numbers[0], numbers[1] if len(numbers) > 1 else 0


def _arguments_object(arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments) if arguments else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _continues_tool_turn(messages: list[ChatMessage]) -> bool:
    """True when the request answers tool calls of the assistant's current turn.

    With thinking on, the API wants that turn's signed thinking blocks sent back; we keep
    none, so such a continuation runs without thinking (the API allows that).
    """
    for message in reversed(messages):
        if message.role == "assistant":
            return bool(message.tool_calls)
        if message.role == "user":
            return False
    return False


def _input_tokens(usage: Any) -> int:
    return int((usage.input_tokens or 0) + (getattr(usage, "cache_creation_input_tokens", 0) or 0)
               + (getattr(usage, "cache_read_input_tokens", 0) or 0))


def _body_message(body: Any, fallback: str) -> str:
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    if isinstance(body, str) and body:
        return body[:500]
    return fallback


async def _close_quietly(stream: AsyncStream[RawMessageStreamEvent]) -> None:
    """Close the response; a failure to close an abandoned stream changes nothing."""
    try:
        await stream.close()
    except Exception:  # noqa: BLE001
        pass


def anthropic_tool_choice(choice: Any) -> dict[str, Any] | None:
    """OpenAI's ``tool_choice`` in Anthropic's spelling (None: the API's default, auto)."""
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"type": "tool", "name": str(choice["function"].get("name", ""))}
    return None
