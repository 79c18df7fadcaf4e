"""Seed 001's plan endpoints that stream: plan mode and "Run plan" (SSE of canonical events).

Both stream exactly like ``POST /api/chat/{projectId}/messages``: the same events, the
same seed-001 errors, and closing the connection cancels the run.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from apps.core.auth import Principal
from apps.core.errors import ValidationFailed
from apps.engine import api as engine
from apps.engine import validation as v
from apps.engine.api import RunRequest
from apps.streaming.dialects import native
from apps.streaming.http import Call, stream_until_done_or_disconnect
from apps.streaming.native import NativeEndpoint
from apps.streaming.requests import native_run_request


async def stream_run(call: Call, run_id: str, chat_id: str) -> None:
    sub = await engine.subscribe(run_id, 0)
    await call.start_stream([(b"x-run-id", run_id.encode()), (b"x-chat-id", chat_id.encode())])

    async def cancel() -> None:
        await engine.stop_run(run_id, reason="client_closed")

    await stream_until_done_or_disconnect(call, sub, native.encode_sse, on_disconnect=cancel)


class PlanModeEndpoint(NativeEndpoint):
    """``POST /api/plan/{projectId}`` ``{chatId?, text, model?, clientMessageId?}`` — a plan-mode turn.

    The answer's plan is stored and announced with ``plan.ready {planId, steps}`` before the
    terminal event; ``GET /api/plan/{projectId}/{chatId}`` returns it afterwards.
    """

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        request = native_run_request(principal, call.kwargs["project_id"], call.json_body(body), mode="plan")
        handle = await engine.start_run(request)
        await stream_run(call, handle.run_id, handle.chat_id)


def _run_body(body: Any) -> dict[str, Any]:
    data = v.require_object(body)
    for name in ("planId", "model"):
        value = data.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValidationFailed(f"{name} must be a non-empty string.", field=name)
    return data


class RunPlanEndpoint(NativeEndpoint):
    """``POST /api/plan/{projectId}/{chatId}/run`` ``{planId?, model?, clientMessageId?}`` — "Run plan".

    Switches the chat to build mode and sends the plan (the chat's latest, or ``planId``) as
    the next message; step status streams as ``plan.step {planId, index, status}``. A plan
    runs once: a plan that ran or runs, or a chat that is answering, is a 409 before any
    provider call — except a repeated ``clientMessageId``, which attaches to the run it started.
    """

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        from apps.chats.services import chat_update
        from apps.plans.services import plan_run_claim, plan_start_undo

        data = _run_body(call.json_body(body) if body.strip() else {})
        client_message_id = v.client_message_id(data.get("clientMessageId"))
        claim = await database_sync_to_async(plan_run_claim)(
            workspace=principal.workspace, project_id=call.kwargs["project_id"], chat_id=call.kwargs["chat_id"],
            plan_id=data.get("planId"), client_message_id=client_message_id)
        if claim.attach_run_id is not None:  # a retry of a request that already started the run
            await stream_run(call, claim.attach_run_id, str(claim.chat.pk))
            return
        request = RunRequest(principal=principal, chat=claim.chat, text=claim.prompt, model=data.get("model"),
                             client_message_id=client_message_id, mode="build", plan_id=str(claim.plan.pk),
                             metadata={"planId": str(claim.plan.pk)})
        try:
            handle = await engine.start_run(request)
        except BaseException:
            await database_sync_to_async(plan_start_undo)(plan=claim.plan)
            raise
        await database_sync_to_async(chat_update)(chat=claim.chat, mode="build")
        await stream_run(call, handle.run_id, handle.chat_id)
