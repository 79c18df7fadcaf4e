"""A real ASGI server (uvicorn, in the test's event loop) on 127.0.0.1 for transport tests."""
from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import uvicorn

from tests.engine.conftest import fake_openai, fast_engine, runtime_cleanup, tenant_async  # noqa: F401
from tests.workers import fake_upstream  # noqa: F401


@dataclass
class LiveServer:
    url: str
    session: aiohttp.ClientSession

    def ws_url(self, path: str) -> str:
        return self.url.replace("http://", "ws://") + path


@pytest.fixture
async def asgi_server(transactional_db: Any, fast_engine: Any) -> AsyncIterator[LiveServer]:  # noqa: F811
    from config.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(application, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)  # polling a flag the server sets once it listens
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield LiveServer(url=f"http://127.0.0.1:{port}", session=session)
    server.should_exit = True
    async with asyncio.timeout(10):
        await task


@dataclass
class SSEEvent:
    id: int | None
    event: str | None
    data: Any


async def read_sse(response: aiohttp.ClientResponse, *, limit: int | None = None,
                   comments: list[str] | None = None) -> list[SSEEvent]:
    """Parse SSE frames until the body ends (or ``limit`` frames).

    Bytes read past the last returned frame are kept on the response for the next call.
    """
    events: list[SSEEvent] = []
    buffer = getattr(response, "_sse_buffer", "")

    async def chunks() -> AsyncIterator[str]:
        yield ""
        async for chunk in response.content.iter_any():
            yield chunk.decode()

    async for chunk in chunks():
        buffer += chunk
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            fields: dict[str, list[str]] = {}
            for line in frame.split("\n"):
                if line.startswith(":"):
                    if comments is not None:
                        comments.append(line)
                    continue
                key, _, value = line.partition(": ")
                fields.setdefault(key, []).append(value)
            if "data" not in fields:
                continue
            raw = "\n".join(fields["data"])
            try:
                data = json.loads(raw)
            except ValueError:
                data = raw
            events.append(SSEEvent(int(fields["id"][0]) if "id" in fields else None,
                                   fields.get("event", [None])[0], data))
            if limit is not None and len(events) >= limit:
                response._sse_buffer = buffer  # type: ignore[attr-defined]
                return events
    response._sse_buffer = buffer  # type: ignore[attr-defined]
    return events
