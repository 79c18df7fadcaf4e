"""The engine's public API: start a run, subscribe to one from a seq, stop one.

Transport-agnostic: no Channels, DRF or SDK imports. Every function here is
called by the thin consumers in apps.streaming.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.chats.models import Chat
from apps.core.principal import Principal
from apps.engine import events as ev
from apps.engine import store
from apps.engine.db import run_db, write_db
from apps.engine.opening import ChatRef, run_open
from apps.engine.runner import RunContext, execute_run
from apps.engine.runtime import WORKER_ID, ActiveRun, get_runtime
from apps.engine.subscription import Subscription
from apps.providers.base import ToolSpec

logger = logging.getLogger(__name__)


@dataclass
class RunRequest:
    """One user turn, validated by the transport (shape) and by the engine (chat, limits, model, quota).

    ``chat`` is a Chat the caller already holds, or a ``ChatRef`` (project and chat ids as the
    client sent them) that the engine looks up in ``principal``'s workspace.
    """

    principal: Principal
    chat: Chat | ChatRef
    text: str
    model: str | None = None
    temperature: float | None = None
    max_tokens: Any = None
    # {type, url: data URL, name?} items or AttachmentUpload (apps.engine.validation.attachments)
    attachments: Sequence[Any] = field(default_factory=list)
    client_message_id: str | None = None
    mode: str | None = None
    history: list[tuple[str, str]] | None = None
    system_prompt: str | None = None
    user_name: str | None = None
    doc_type: str | None = None
    project_context: dict[str, str] | None = None
    enable_dsl: bool | None = None
    reasoning: bool = False
    metadata: dict[str, Any] | None = None
    # Tools the client defines and runs itself (OpenAI ``tools``): offered to the model; a call
    # to one is handed back as ``tool.call`` (``client: true``) and ends the run, not executed.
    client_tools: list[ToolSpec] | None = None
    tool_choice: Any = None
    plan_id: str | None = None  # the plan this run executes ("Run plan")


@dataclass(frozen=True)
class RunHandle:
    run_id: str
    chat_id: str
    user_message_id: str
    assistant_message_id: str
    created: bool
    model: str
    provider: str


async def start_run(request: RunRequest) -> RunHandle:
    """Validate, commit the user turn and start the model in the background.

    One engine DB call (``opening.run_open``) does the lookups, the set-up transaction and
    the prompt reads; the provider call follows on this loop.

    Returns:
        The run's handle. ``created`` is False when ``client_message_id`` repeated
        an earlier message: no second provider call is made; subscribe to that run.
    Raises:
        NotFound, InvalidModel, NoProvider, ValidationFailed, RateLimited, CreditExhausted:
            before anything is written or any provider is called.
    """
    runtime = get_runtime()
    await runtime.ensure_started()
    opened = await run_db(run_open, request, worker_id=WORKER_ID)
    start = opened.start
    handle = RunHandle(
        run_id=start.run_id,
        chat_id=start.chat_id,
        user_message_id=start.user_message_id,
        assistant_message_id=start.assistant_message_id,
        created=start.created,
        model=opened.model_info.name,
        provider=opened.model_info.provider,
    )
    if not start.created or opened.prompt_input is None:
        return handle

    active = ActiveRun(
        run_id=start.run_id, chat_id=start.chat_id, message_id=start.assistant_message_id, runtime=runtime
    )
    active.record_started(
        ev.envelope(
            seq=1,
            run_id=start.run_id,
            chat_id=start.chat_id,
            type=ev.RUN_STARTED,
            payload={
                "userMessageId": start.user_message_id,
                "assistantMessageId": start.assistant_message_id,
                "model": handle.model,
                "provider": handle.provider,
            },
        )
    )
    runtime.register(active)
    await runtime.join(start.run_id)  # so a stop sent through another worker reaches us
    ctx = RunContext(
        prompt_input=opened.prompt_input,
        model_info=opened.model_info,
        provider=opened.provider,
        workspace_id=str(request.principal.workspace.pk),
        reserved_credit=opened.reserved,
        temperature=request.temperature,
        max_tokens=opened.max_tokens,
        reasoning=request.reasoning,
        plan_id=request.plan_id,
    )
    # A fresh context: the run must not inherit the request's (it outlives it).
    active.task = runtime.loop.create_task(
        execute_run(active, ctx, opened.prompt), name=f"run-{start.run_id}", context=contextvars.Context()
    )
    heartbeat = runtime.loop.create_task(_heartbeat(active), context=contextvars.Context())
    active.task.add_done_callback(lambda _t: heartbeat.cancel())
    return handle


async def _heartbeat(active: ActiveRun) -> None:
    """Keeps the run alive for the reaper and picks up stops requested through Postgres."""
    interval = settings.ENGINE_HEARTBEAT_INTERVAL_S
    while True:
        await asyncio.sleep(interval)  # a periodic timer
        try:
            stop = await write_db(store.run_heartbeat, run_id=active.run_id)
            active.db_writes += 1
            if stop:
                active.request_stop("stop")
        except Exception:
            logger.warning("heartbeat of run %s failed", active.run_id, exc_info=True)


async def subscribe(run_id: str, after_seq: int = 0) -> Subscription:
    """Events of ``run_id`` with seq > ``after_seq``, live, ending with the terminal event.

    The caller must ``close()`` the subscription when done.
    """
    return await get_runtime().subscribe(run_id, after_seq)


async def stop_run(run_id: str, *, reason: str = "stop") -> bool:
    """Stop a running run wherever it executes. Returns False if it was not running."""
    runtime = get_runtime()
    await runtime.ensure_started()
    active = runtime.local_run(run_id)
    if active is not None:
        active.request_stop(reason)
        return True
    requested = await run_db(store.run_request_stop, run_id=run_id)
    if requested:
        await runtime.publish_stop(run_id)
    return requested


async def stop_chat(chat: Chat) -> str | None:
    """Stop the chat's running run, if any; returns its id."""
    run_id = await run_db(store.chat_running_run_id, chat_id=str(chat.pk))
    if run_id is None:
        return None
    await stop_run(run_id)
    return run_id


async def run_for_resume(*, principal: Principal, run_id: str) -> tuple[str, str]:
    """(run id, chat id) of a run the caller may read.

    Raises:
        NotFound: no such run in the caller's workspace.
    """
    from apps.chats.selectors import run_get

    run = await run_db(run_get, workspace=principal.workspace, run_id=run_id)
    return str(run.pk), str(run.chat_id)
