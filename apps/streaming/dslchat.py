"""Seed 000 transports (DSL chat): ``POST /api/chat`` as SSE, ``GET /api/chat/{chatId}/stream``, WS ``/api/chat/ws``.

Thin: the body becomes an engine run (``chat_requests.start_turn``); each canonical event
is encoded by ``dialects.seed000``. A run outlives its connection: a dropped stream is
picked up again with ``GET /api/chat/{chatId}/stream`` (``Last-Event-ID`` honoured).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from apps.chats.models import Message, Run
from apps.core.auth import Principal
from apps.core.errors import ApplicationError, ValidationFailed
from apps.engine import api as engine
from apps.engine import validation as v
from apps.streaming.chat_requests import chat_by_reference, parse_chat_turn, start_turn
from apps.streaming.dialects import seed000
from apps.streaming.frames import SafeJsonFrames
from apps.streaming.http import Call, Endpoint, dumps, stream_until_done_or_disconnect
from apps.streaming.native import parse_after
from apps.streaming.sockets import EngineSocketConsumer

logger = logging.getLogger(__name__)


class Seed000Endpoint(Endpoint):
    def error_body(self, exc: ApplicationError) -> dict[str, Any]:
        return seed000.error_body(exc)


async def stream_dsl_chat(call: Call, principal: Principal, data: dict[str, Any]) -> None:
    """``POST /api/chat`` → seed-000 SSE: a ``chat`` frame when a chat was created, then the run's frames."""
    turn = parse_chat_turn(data)
    handle, _chat, created = await start_turn(principal, turn)
    sub = await engine.subscribe(handle.run_id, 0)
    await call.start_stream([(b"x-chat-id", handle.chat_id.encode()), (b"x-run-id", handle.run_id.encode())])
    if created and turn.chat_id is None:
        await call.write(seed000.sse_frame(seed000.chat_frame(handle.chat_id)))
    await stream_until_done_or_disconnect(call, sub, seed000.SseEncoder(enable_dsl=turn.enable_dsl is not False))


# --- history + resume ---------------------------------------------------------------------------


@dataclass
class ResumePoint:
    chat_id: str
    run_id: str | None  # the run to follow (None: nothing to follow)
    finished_at: int | None  # the run's last seq when it has already ended
    history: dict[str, Any] | None = None  # the ``history`` frame, when asked for
    extra: list[dict[str, Any]] = field(default_factory=list)


def chat_resume_point(principal: Principal, reference: str, *, after: int | None) -> ResumePoint:
    """What ``GET /api/chat/{chatId}/stream`` sends (sync).

    Without ``after`` (a first connection): the history — the running run's answer left out,
    since its events are replayed from seq 1 — and the running run, if any. With ``after``
    (a reconnect's Last-Event-ID): no history, the chat's latest run from ``after`` on.

    Raises:
        NotFound: no such chat in the caller's workspace.
    """
    from apps.chats.selectors import message_history_page

    chat = chat_by_reference(principal, reference)
    latest = (Run.objects.filter(chat=chat).order_by("-started_at")
              .values_list("id", "status", "last_seq", "assistant_message_id").first())
    running = latest is not None and latest[1] == Run.Status.RUNNING
    target = latest if (after is not None or running) else None
    point = ResumePoint(
        chat_id=str(chat.pk),
        run_id=str(target[0]) if target else None,
        finished_at=None if target is None or target[1] == Run.Status.RUNNING else target[2],
    )
    if after is None:
        page = message_history_page(chat=chat, before=None, limit=settings.HISTORY_MAX_PAGE_SIZE)
        live_answer = latest[3] if running and latest is not None else None
        messages: list[Message] = [m for m in page.messages if m.pk != live_answer]
        point.history = seed000.history_frame(point.chat_id, messages, has_more=page.has_more,
                                              run_id=point.run_id)
    return point


class ChatStreamEndpoint(Seed000Endpoint):
    """``GET /api/chat/{chatId}/stream``: the history, then the active run live (until ``done``)."""

    methods = ("GET",)

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        query = call.query()
        raw = query["after"] if "after" in query else call.headers.get("last-event-id")
        after = parse_after(raw, "after" if "after" in query else "Last-Event-ID") if raw not in (None, "") else None
        point = await database_sync_to_async(chat_resume_point)(principal, call.kwargs["chat_id"], after=after)
        sub = None
        if point.run_id is not None and (point.finished_at is None or point.finished_at > (after or 0)):
            sub = await engine.subscribe(point.run_id, after or 0)
        headers = [(b"x-chat-id", point.chat_id.encode())]
        if point.run_id is not None:
            headers.append((b"x-run-id", point.run_id.encode()))
        await call.start_stream(headers)
        if point.history is not None:
            await call.write(seed000.sse_frame(point.history))
        if sub is None:  # nothing (more) to follow
            await call.write(seed000.sse_frame(seed000.frame("done", "")))
            await call.end()
            return
        await stream_until_done_or_disconnect(call, sub, seed000.SseEncoder())


# --- WebSocket ----------------------------------------------------------------------------------


class DslChatSocketConsumer(SafeJsonFrames, EngineSocketConsumer):
    """WebSocket ``/api/chat/ws`` in seed 000's frames.

    Client frames: ``{"type": "message", "content": "…", chatId?, model?, temperature?,
    enableDSL?, clientMessageId?}`` (without chatId the socket's chat: created by its first
    message), ``{"type": "stop", chatId?}``, ``{"type": "resume", chatId?, after?}``.
    Server frames: ``{"type": "chat" | "text" | "dsl" | "phase" | "done" | "error" | "history"
    | "stopped", "content": …}``; run frames carry ``id`` (the event's seq). Runs outlive the socket.
    """

    async def connect(self) -> None:
        await self.accept()
        self.forwarders: set[asyncio.Task[None]] = set()
        self.chat_ref: str | None = None
        error = self.scope.get("auth_error")
        self.principal: Principal | None = self.scope.get("principal")
        if error is not None or self.principal is None:
            exc = error or ApplicationError(
                "Authentication credentials were not provided.", code="unauthenticated", status=401
            )
            await self.send_json(seed000.frame("error", seed000.error_object(exc.code, exc.message, exc.extra)))
            await self.close(code=4401)

    async def frame_error(self, exc: ValidationFailed) -> None:
        if self.principal is not None:
            await self.send_json(seed000.frame("error", seed000.error_object(exc.code, exc.message, exc.extra)))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Never await a whole generation here: Channels handles one frame at a time.
        principal = self.principal
        if principal is None:
            return
        try:
            if not isinstance(content, dict):
                raise ValidationFailed("A frame must be a JSON object.", field="frame")
            kind = content.get("type")
            if kind == "message":
                await self._message(principal, content)
            elif kind == "stop":
                chat = await database_sync_to_async(chat_by_reference)(principal, self._chat_of(content))
                run_id = await engine.stop_chat(chat)
                await self.send_json(seed000.frame("stopped", {"runId": run_id, "stopped": run_id is not None}))
            elif kind == "resume":
                await self._resume(principal, content)
            else:
                raise ValidationFailed("type must be message, stop or resume.", field="type")
        except ApplicationError as exc:
            await self.send_json(seed000.frame("error", seed000.error_object(exc.code, exc.message, exc.extra)))

    def _chat_of(self, content: dict[str, Any]) -> str:
        chat = content.get("chatId", self.chat_ref)
        if not isinstance(chat, str) or not chat:
            raise ValidationFailed("chatId is required (no message was sent on this socket yet).", field="chatId")
        return chat

    async def _message(self, principal: Principal, content: dict[str, Any]) -> None:
        body = {key: value for key, value in content.items() if key not in ("type", "content")}
        if "messages" not in content:
            body["messages"] = [{"role": "user", "content": v.message_text(content.get("content"), field="content")}]
        if "chatId" not in body and self.chat_ref is not None:
            body["chatId"] = self.chat_ref
        turn = parse_chat_turn(body)
        handle, _chat, created = await start_turn(principal, turn)
        self.chat_ref = handle.chat_id  # later frames without chatId go on in this chat
        if created and turn.chat_id is None:
            await self.send_json(seed000.chat_frame(handle.chat_id))
        self._forward(handle.run_id, 0, enable_dsl=turn.enable_dsl is not False)

    async def _resume(self, principal: Principal, content: dict[str, Any]) -> None:
        after = content.get("after")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int) or after < 0):
            raise ValidationFailed("after must be a non-negative integer.", field="after")
        point = await database_sync_to_async(chat_resume_point)(principal, self._chat_of(content), after=after)
        self.chat_ref = point.chat_id
        if point.history is not None:
            await self.send_json(point.history)
        if point.run_id is not None and (point.finished_at is None or point.finished_at > (after or 0)):
            self._forward(point.run_id, after or 0, enable_dsl=True)
        else:
            await self.send_json(seed000.frame("done", ""))

    def _forward(self, run_id: str, after: int, *, enable_dsl: bool) -> None:
        task = asyncio.create_task(self._forward_events(run_id, after, enable_dsl))
        self.forwarders.add(task)
        task.add_done_callback(self.forwarders.discard)

    async def _forward_events(self, run_id: str, after: int, enable_dsl: bool) -> None:
        sub = await engine.subscribe(run_id, after)
        try:
            async for event in sub:
                data = seed000.ws_frame(event, enable_dsl=enable_dsl)
                if data is not None:
                    await self.base_send({"type": "websocket.send", "text": dumps(data)})
        finally:
            sub.close()

    async def disconnect(self, code: int) -> None:
        for task in list(getattr(self, "forwarders", ())):
            task.cancel()
