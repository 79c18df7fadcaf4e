"""``POST /api/chat``: one path, several dialects — the request's shape picks the one that answers.

``CHAT_POST_DIALECTS`` is the extension point: ``(predicate, handler)`` pairs tried in
order; the first predicate that accepts the (already JSON-decoded) body and the call's
headers handles it. A dialect with a more specific shape (e.g. the Vercel AI SDK's
``useChat`` body or header) goes before the seed entries; the last entry (seed 000) takes
whatever is left. Errors raised before a handler starts its response are rendered in the
seed-000 shape ``{"error": {"code", "message", …}}``; a dialect with its own error shape
catches its errors itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apps.core.auth import Principal
from apps.engine import validation as v
from apps.streaming.dialects import seed004
from apps.streaming.dslchat import Seed000Endpoint, stream_dsl_chat
from apps.streaming.http import Call
from apps.streaming.simplechat import complete_json

ChatPostPredicate = Callable[[Call, dict[str, Any]], bool]
ChatPostHandler = Callable[[Call, Principal, dict[str, Any]], Awaitable[None]]


def _wants_seed004_json(call: Call, body: dict[str, Any]) -> bool:
    return seed004.wants_json(call.headers.get("accept", ""), body)


def _anything(call: Call, body: dict[str, Any]) -> bool:
    return True


CHAT_POST_DIALECTS: list[tuple[ChatPostPredicate, ChatPostHandler]] = [
    (_wants_seed004_json, complete_json),  # seed 004: one JSON completion
    (_anything, stream_dsl_chat),  # seed 000: SSE with DSL frames
]


class ChatPostEndpoint(Seed000Endpoint):
    """``POST /api/chat`` (see the module docstring for how the dialect is chosen)."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        data = v.require_object(call.json_body(body))
        for accepts, handler in CHAT_POST_DIALECTS:
            if accepts(call, data):
                await handler(call, principal, data)
                return
