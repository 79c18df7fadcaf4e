"""The OpenAI-compatible API under ``/v1``: ``POST /v1/chat/completions``, ``GET /v1/models``.

Any OpenAI SDK or tool works with ``base_url=<blueprint>/v1`` and a Blueprint API key.

* Project: the ``X-Project-Id`` header (a project's UUID or slug, in the caller's workspace),
  else the workspace's default project — the turn gets that project's documents (RAG).
* Chat: each request is a turn of a new chat in that project, unless ``X-Chat-Id`` names one
  (the client's own id, mapped per workspace like seed 002's conversation ids) to keep the
  turns — and their domain model — together. Either way the request's messages are the history.
* Closing the connection stops the run (an OpenAI client cannot resume one).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels.db import database_sync_to_async

from apps.chats.models import Chat
from apps.core.auth import Principal
from apps.core.errors import ApplicationError, Conflict
from apps.engine import api as engine
from apps.engine.api import RunRequest
from apps.engine.events import Event
from apps.engine.subscription import Subscription
from apps.streaming.dialects import openai_compat as dialect
from apps.streaming.http import Call, Endpoint, Headers, stream_until_done_or_disconnect
from apps.streaming.openai_requests import CompletionRequest, parse_completion_request


class OpenAIEndpoint(Endpoint):
    def error_body(self, exc: ApplicationError) -> dict[str, Any]:
        return dialect.error_body(exc)

    async def _send_error(self, call: Call, exc: ApplicationError) -> None:
        await super()._send_error(call, dialect.http_error(exc))


def completion_chat(*, principal: Principal, project_ref: str | None, chat_ref: str | None,
                    model: str, title: str) -> tuple[Chat, bool]:
    """The chat a completion request runs in, and whether it was made for this request (sync).

    The model is resolved first, so an unknown one leaves nothing behind.

    Raises:
        NotFound: ``project_ref`` names no project of the caller's workspace.
        InvalidModel, NoProvider: the model cannot be used.
        Conflict: ``chat_ref`` was first used in another project.
    """
    from apps.chats.services import chat_create, chat_get_or_create_for_client_id
    from apps.projects.selectors import project_get_by_id_or_slug
    from apps.projects.services import project_get_or_create_default
    from apps.providers.registry import resolve_model

    resolve_model(model)
    workspace = principal.workspace
    if project_ref:
        project = project_get_by_id_or_slug(workspace=workspace, reference=project_ref)
    else:
        project = project_get_or_create_default(workspace=workspace)
    if chat_ref:
        chat = chat_get_or_create_for_client_id(project=project, client_id=chat_ref, title=title)
        if chat.project_id != project.pk:
            raise Conflict("This X-Chat-Id belongs to another project of this workspace.",
                           code="chat_in_other_project")
        return chat, False
    chat = chat_create(project=project, mode="chat", title=title)
    chat.project = project
    return chat, True


def discard_chat(*, chat: Chat) -> None:
    from apps.chats.services import chat_delete

    chat_delete(chat=chat)


async def collect_run(call: Call, sub: Subscription, run_id: str) -> list[Event] | None:
    """Every event of the run, or None if the client went away first (the run is then stopped)."""
    events: list[Event] = []

    async def pump() -> None:
        async for event in sub:
            events.append(event)

    reader = asyncio.create_task(pump())
    watcher = asyncio.create_task(call.wait_disconnect())
    try:
        done, _ = await asyncio.wait({reader, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if reader not in done:
            await engine.stop_run(run_id, reason="client_closed")
            return None
        reader.result()
        return events
    finally:
        for task in (reader, watcher):
            task.cancel()
        sub.close()


class ChatCompletionsEndpoint(OpenAIEndpoint):
    """``POST /v1/chat/completions``."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        request = parse_completion_request(call.json_body(body))
        chat, fresh = await database_sync_to_async(completion_chat)(
            principal=principal, project_ref=call.headers.get("x-project-id", "").strip() or None,
            chat_ref=call.headers.get("x-chat-id", "").strip() or None, model=request.model,
            title=" ".join(request.text.split())[:80])
        try:
            handle = await engine.start_run(_run_request(principal, chat, request))
        except ApplicationError:
            if fresh:
                await database_sync_to_async(discard_chat)(chat=chat)
            raise
        created = int(time.time())
        headers: Headers = [(b"x-run-id", handle.run_id.encode()), (b"x-chat-id", handle.chat_id.encode()),
                            (b"x-project-id", str(chat.project_id).encode())]
        sub = await engine.subscribe(handle.run_id, 0)

        async def cancel() -> None:
            await engine.stop_run(handle.run_id, reason="client_closed")

        if request.stream:
            await call.start_stream(headers)
            encoder = dialect.ChunkEncoder(model=request.model, created=created, include_usage=request.include_usage)
            await stream_until_done_or_disconnect(call, sub, encoder.encode, on_disconnect=cancel)
            return
        events = await collect_run(call, sub, handle.run_id)
        if events is not None:
            await call.respond_json(dialect.completion(events, model=request.model, created=created), headers=headers)


def _run_request(principal: Principal, chat: Chat, request: CompletionRequest) -> RunRequest:
    return RunRequest(
        principal=principal, chat=chat, text=request.text, model=request.model, temperature=request.temperature,
        max_tokens=request.max_tokens, attachments=request.attachments, history=request.history,
        system_prompt=request.system_prompt, reasoning=request.reasoning,
        client_tools=request.tools or None, tool_choice=request.tool_choice)


class ModelsEndpoint(OpenAIEndpoint):
    """``GET /v1/models`` and ``GET /v1/models/{model}``: the models this configuration can call."""

    methods = ("GET",)

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        from apps.providers.registry import available_models, resolve_model

        name = call.kwargs.get("model")
        if name is None:
            await call.respond_json(dialect.model_list(available_models()))
            return
        await call.respond_json(dialect.model_object(resolve_model(name)))
