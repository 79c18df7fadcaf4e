"""A request-body deadline for the Django (REST) routes, as ASGI middleware.

Django's ASGI handler reads a request body with no deadline: a client that declares a
Content-Length and then sends a byte now and then (slowloris) holds a connection and a task
for as long as it likes. This middleware gives the whole body ``REQUEST_BODY_TIMEOUT_S``;
after that it answers ``408`` JSON itself and tells Django the client left, so Django drops
the request without answering. The streaming endpoints enforce the same deadline in
``apps.streaming.http.Call.read_body``.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyDeadlineMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.inner(scope, receive, send)
        timeout = float(settings.REQUEST_BODY_TIMEOUT_S)
        deadline = asyncio.get_running_loop().time() + timeout
        body_done = False
        timed_out = False

        async def guarded_receive() -> dict[str, Any]:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()
            if timed_out:
                return {"type": "http.disconnect"}
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                await _send_408(send, timeout)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if not timed_out:  # after a 408 the response is ours; Django has nothing more to say
                await send(message)

        return await self.inner(scope, guarded_receive, guarded_send)


async def _send_408(send: Send, timeout: float) -> None:
    body = json.dumps({"error": {"code": "request_timeout",
                                 "message": f"The request body did not arrive within {timeout:g} seconds."}}).encode()
    await send({"type": "http.response.start", "status": 408,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
