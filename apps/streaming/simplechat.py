"""Seed 004 transports (simple chat): the JSON completion of ``POST /api/chat``, and the SSE of
``POST /api/chat/stream`` and ``POST /api/chat/reason``.

A session is a chat (``sessionId`` = the chat's id). Like every dialect without a documented
cancel-on-close, a run outlives its connection; ``POST /api/chat/stop`` stops it for real.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from apps.chats.models import Message
from apps.core.auth import Principal
from apps.core.errors import ApplicationError, ValidationFailed
from apps.engine import api as engine
from apps.engine.subscription import Subscription
from apps.streaming.chat_requests import chat_by_reference, parse_chat_turn, start_turn
from apps.streaming.dialects import seed004
from apps.streaming.dslchat import Seed000Endpoint
from apps.streaming.http import Call, stream_until_done_or_disconnect

# The HTTP status of a completion whose run ended in an error event.
_ERROR_STATUS = {"rate_limited": 429, "no_provider": 503, "model_unavailable": 503, "credit_exhausted": 402}


async def _collect(sub: Subscription, completion: seed004.Completion) -> None:
    async for event in sub:
        completion.add(event)


async def complete_json(call: Call, principal: Principal, data: dict[str, Any]) -> None:
    """``POST /api/chat`` → one JSON completion once the run has ended.

    A client that leaves before the end leaves the run going (its answer is stored in
    the session's history).
    """
    turn = parse_chat_turn(data)
    handle, _chat, _created = await start_turn(principal, turn)
    completion = seed004.Completion(session_id=handle.chat_id)
    sub = await engine.subscribe(handle.run_id, 0)
    collecting = asyncio.create_task(_collect(sub, completion))
    watcher = asyncio.create_task(call.wait_disconnect())
    try:
        done, _ = await asyncio.wait({collecting, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if collecting not in done:
            return  # the client left
        collecting.result()
    finally:
        for task in (collecting, watcher):
            if not task.done():
                task.cancel()
        sub.close()
    if completion.error is not None:
        error = completion.error
        raise ApplicationError(error["message"] or "The model failed to answer.", code=error["code"],
                               status=_ERROR_STATUS.get(error["code"], 502), retry=error["retry"],
                               extra={"sessionId": handle.chat_id})
    created_at = await Message.objects.filter(pk=handle.assistant_message_id).values_list(
        "created_at", flat=True).afirst()
    await call.respond_json(completion.body(created_at or timezone.now()),
                            headers=[(b"x-session-id", handle.chat_id.encode())])


class SimpleStreamEndpoint(Seed000Endpoint):
    """``POST /api/chat/stream`` (and ``/api/chat/reason`` with ``reasoning``): seed 004's SSE."""

    reasoning = False

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        turn = parse_chat_turn(call.json_body(body))
        handle, _chat, _created = await start_turn(principal, turn, reasoning=self.reasoning)
        sub = await engine.subscribe(handle.run_id, 0)
        await call.start_stream([(b"x-session-id", handle.chat_id.encode()), (b"x-run-id", handle.run_id.encode())])
        await stream_until_done_or_disconnect(call, sub, seed004.SseEncoder(handle.chat_id))


class ReasonEndpoint(SimpleStreamEndpoint):
    """``POST /api/chat/reason``: the run asks the model for its reasoning, streamed as ``{reasoning}`` frames."""

    reasoning = True


class ChatStopEndpoint(Seed000Endpoint):
    """``POST /api/chat/stop`` ``{sessionId | chatId}``: stop the chat's running answer (both seeds)."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        data = call.json_body(body)
        if not isinstance(data, dict):
            raise ValidationFailed("The request body must be a JSON object.", field="body")
        reference = data.get("sessionId", data.get("chatId"))
        if not isinstance(reference, str) or not reference:
            raise ValidationFailed("sessionId (or chatId) is required.", field="sessionId")
        chat = await database_sync_to_async(chat_by_reference)(principal, reference)
        run_id = await engine.stop_chat(chat)
        await call.respond_json({"stopped": run_id is not None, "runId": run_id, "sessionId": str(chat.pk)})
