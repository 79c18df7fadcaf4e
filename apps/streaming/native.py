"""Seed 001 transports: send (SSE), stop, resume (SSE) and the WebSocket."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async

from apps.core.auth import Principal
from apps.core.errors import ApplicationError, ValidationFailed
from apps.engine import api as engine
from apps.streaming.dialects import native
from apps.streaming.frames import SafeJsonFrames
from apps.streaming.http import Call, Endpoint, dumps, stream_until_done_or_disconnect
from apps.streaming.requests import native_chat, native_run_request
from apps.streaming.sockets import EngineSocketConsumer

logger = logging.getLogger(__name__)


class NativeEndpoint(Endpoint):
    def error_body(self, exc: ApplicationError) -> dict[str, Any]:
        return native.error_body(exc)


class SendMessageEndpoint(NativeEndpoint):
    """``POST /api/chat/{projectId}/messages`` — SSE of canonical events.

    Closing the connection cancels the run, as seed 001 documents. ``GET`` on
    the same path is the history endpoint, served by Django.
    """

    fall_through_to_django = True

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        data = call.json_body(body)
        handle = await engine.start_run(native_run_request(principal, call.kwargs["project_id"], data))
        sub = await engine.subscribe(handle.run_id, 0)
        await call.start_stream([(b"x-run-id", handle.run_id.encode()), (b"x-chat-id", handle.chat_id.encode())])

        async def cancel() -> None:
            await engine.stop_run(handle.run_id, reason="client_closed")

        await stream_until_done_or_disconnect(call, sub, native.encode_sse, on_disconnect=cancel)


class StopEndpoint(NativeEndpoint):
    """``POST /api/chat/{projectId}/stop`` ``{chatId}``."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        data = call.json_body(body)
        if not isinstance(data, dict) or "chatId" not in data:
            raise ValidationFailed("chatId is required.", field="chatId")
        chat = await database_sync_to_async(native_chat)(principal, call.kwargs["project_id"], data["chatId"])
        run_id = await engine.stop_chat(chat)
        await call.respond_json({"stopped": run_id is not None, "runId": run_id, "chatId": str(chat.pk)})


def parse_after(value: str | None, field: str) -> int:
    if value is None or value == "":
        return 0
    try:
        after = int(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be a non-negative integer.", field=field) from None
    if after < 0:
        raise ValidationFailed(f"{field} must be a non-negative integer.", field=field)
    return after


class ResumeEndpoint(NativeEndpoint):
    """``GET /api/runs/{runId}/stream`` — replay from Postgres after a seq, then tail live."""

    methods = ("GET",)

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        query = call.query()
        if "after" in query:
            after = parse_after(query["after"], "after")
        else:
            after = parse_after(call.headers.get("last-event-id"), "Last-Event-ID")
        run_id, chat_id = await engine.run_for_resume(principal=principal, run_id=call.kwargs["run_id"])
        sub = await engine.subscribe(run_id, after)
        await call.start_stream([(b"x-run-id", run_id.encode()), (b"x-chat-id", chat_id.encode())])
        await stream_until_done_or_disconnect(call, sub, native.encode_sse)


class ChatSocketConsumer(SafeJsonFrames, EngineSocketConsumer):
    """WebSocket ``/api/chat/{projectId}/ws``.

    Client frames: ``{"type": "message", chatId, text, clientMessageId?, …}``,
    ``{"type": "stop", chatId}``, ``{"type": "resume", runId, afterSeq}``.
    Server frames: canonical events. A run keeps going when the socket drops.
    """

    async def connect(self) -> None:
        await self.accept()
        self.forwarders: set[asyncio.Task[None]] = set()
        error = self.scope.get("auth_error")
        self.principal: Principal | None = self.scope.get("principal")
        if error is not None or self.principal is None:
            exc = error or ApplicationError(
                "Authentication credentials were not provided.", code="unauthenticated", status=401
            )
            await self.send_json(native.error_frame(exc))
            await self.close(code=4401)
            return
        self.project_id = self.scope["url_route"]["kwargs"]["project_id"]
        try:
            await database_sync_to_async(native_chat)(self.principal, self.project_id, None)
        except ApplicationError as exc:
            await self.send_json(native.error_frame(exc))
            await self.close(code=4404)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Never await a whole generation here: Channels handles one frame at a time.
        try:
            if not isinstance(content, dict):
                raise ValidationFailed("A frame must be a JSON object.", field="frame")
            kind = content.get("type")
            if kind == "message":
                request = native_run_request(self.principal, self.project_id, content)  # type: ignore[arg-type]
                handle = await engine.start_run(request)
                self._forward(handle.run_id, 0)
            elif kind == "stop":
                chat = await database_sync_to_async(native_chat)(self.principal, self.project_id, content.get("chatId"))
                run_id = await engine.stop_chat(chat)
                await self.send_json({"type": "stop.ack", "runId": run_id, "stopped": run_id is not None})
            elif kind == "resume":
                after = content.get("afterSeq", 0)
                if isinstance(after, bool) or not isinstance(after, int) or after < 0:
                    raise ValidationFailed("afterSeq must be a non-negative integer.", field="afterSeq")
                run_id, _chat = await engine.run_for_resume(
                    principal=self.principal,  # type: ignore[arg-type]
                    run_id=str(content.get("runId", "")),
                )
                self._forward(run_id, after)
            else:
                raise ValidationFailed("type must be message, stop or resume.", field="type")
        except ApplicationError as exc:
            await self.send_json(native.error_frame(exc))

    malformed_code = "invalid_request"  # seed 001's code for a frame it cannot read

    async def frame_error(self, exc: ValidationFailed) -> None:
        await self.send_json(native.error_frame(exc))

    def _forward(self, run_id: str, after: int) -> None:
        task = asyncio.create_task(self._forward_events(run_id, after))
        self.forwarders.add(task)
        task.add_done_callback(self.forwarders.discard)

    async def _forward_events(self, run_id: str, after: int) -> None:
        sub = await engine.subscribe(run_id, after)
        send = self.base_send  # one frame per event, without the consumer's send layers
        try:
            async for event in sub:
                await send({"type": "websocket.send", "text": dumps(event)})
        finally:
            sub.close()

    async def disconnect(self, code: int) -> None:
        for task in list(getattr(self, "forwarders", ())):
            task.cancel()
