"""The floor Blueprint is measured against: a bare ASGI relay of an OpenAI-compatible stream.

No Django, auth, database, event log or fan-out — only what any relay must do: call the
upstream through the same OpenAI SDK and HTTP transport Blueprint uses, and write each text
delta as ``data: {"type":"assistant.message_delta","delta":…}`` (SSE on ``POST``; on ``POST
/v1/chat/completions`` the upstream's OpenAI chunks are forwarded as they are) or as a
WebSocket text frame (client frames ``{"type":"message", text, model?}`` / ``{"type":"stop"}``).
Serve it with ``daphne bench.raw_relay:app`` or ``uvicorn bench.raw_relay:app``; it reads
``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` and ``PROVIDER_HTTP_TRANSPORT`` (aiohttp | httpx), as Blueprint does.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import openai

_client: openai.AsyncOpenAI | None = None
DONE = {"type": "session.task_complete", "status": "completed"}


def _get_client() -> openai.AsyncOpenAI:
    global _client
    if _client is None:  # one per process: the relay's servers run a single event loop
        transport = os.environ.get("PROVIDER_HTTP_TRANSPORT", "aiohttp")
        http = openai.DefaultAioHttpClient() if transport == "aiohttp" else openai.DefaultAsyncHttpxClient()
        _client = openai.AsyncOpenAI(max_retries=0, http_client=http)
    return _client


async def _deltas(request: dict[str, Any]) -> AsyncIterator[str]:
    stream = await _get_client().chat.completions.create(
        model=request.get("model") or "gpt-4o", messages=[{"role": "user", "content": request.get("text", "")}],
        stream=True, stream_options={"include_usage": True})
    async with stream:
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content


def _event(delta: str) -> str:
    return json.dumps({"type": "assistant.message_delta", "delta": delta}, separators=(",", ":"))


async def _openai(send: Any, request: dict[str, Any]) -> None:
    """``POST /v1/chat/completions``: the upstream's chunks forwarded as they come (a pure relay)."""
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
    stream = await _get_client().chat.completions.create(
        model=request.get("model") or "gpt-4o", messages=request.get("messages") or [], stream=True,
        stream_options={"include_usage": True})
    async with stream:
        async for chunk in stream:
            await send({"type": "http.response.body", "body": b"data: " + chunk.model_dump_json().encode() + b"\n\n",
                        "more_body": True})
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


async def _sse(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["method"] != "POST":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"raw relay\n"})
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"] == "/v1/chat/completions":
        await _openai(send, json.loads(body))
        return
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
    async for delta in _deltas(json.loads(body)):
        await send({"type": "http.response.body", "body": f"data: {_event(delta)}\n\n".encode(), "more_body": True})
    await send({"type": "http.response.body", "body": f"data: {json.dumps(DONE)}\n\n".encode()})


async def _ws_relay(send: Any, request: dict[str, Any]) -> None:
    try:
        async for delta in _deltas(request):
            await send({"type": "websocket.send", "text": _event(delta)})
    except asyncio.CancelledError:
        pass  # a stop frame; on a disconnect the send below fails and the waiter ignores it
    await send({"type": "websocket.send", "text": json.dumps(DONE)})


async def _websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    task: asyncio.Task[None] | None = None
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
            elif message["type"] == "websocket.disconnect":
                return
            elif message["type"] == "websocket.receive":
                frame = json.loads(message.get("text") or message.get("bytes") or b"{}")
                if frame.get("type") == "message":
                    task = asyncio.create_task(_ws_relay(send, frame))
                elif frame.get("type") == "stop" and task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await task
                    if task.cancelled():  # stopped before it started, so it could not answer
                        await send({"type": "websocket.send", "text": json.dumps(DONE)})
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(Exception):
                await task


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _sse(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
