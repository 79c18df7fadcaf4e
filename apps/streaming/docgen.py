"""Seed 002/003 transports: document generation over named SSE events.

* ``POST /api/v1/chat/stream`` — ``conversation_id`` and ``project_id`` are the client's own
  UUIDs. ``project_id`` is a project of the caller's workspace when it is one's id, else the
  project derived from (workspace, id), created on first use; ``conversation_id`` is the chat
  derived from (workspace, id) (``chat_get_or_create_for_client_id``). Another workspace's ids
  therefore name nothing of theirs: they behave exactly like ids never seen before.
* ``POST /api/v1/chat/generate`` (legacy) — no ids: each call is a new chat in the workspace's
  default project.
* ``POST /api/v1/chat/message`` — deprecated: 400.

The run outlives the connection (the generated document is still saved); errors before the
stream are FastAPI-shaped (422 with every problem, 403 for a bad or missing key).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from apps.chats.models import Chat
from apps.core.auth import Principal
from apps.core.errors import ApplicationError, Conflict
from apps.engine import api as engine
from apps.engine.api import RunRequest
from apps.streaming.dialects import docgen
from apps.streaming.docgen_requests import parse_generate_request, parse_json, parse_stream_request
from apps.streaming.http import Call, Endpoint, Headers, stream_until_done_or_disconnect

DEPRECATED_MESSAGE = "POST /api/v1/chat/message is deprecated: use POST /api/v1/chat/stream (Server-Sent Events)."


class DocgenEndpoint(Endpoint):
    def error_body(self, exc: ApplicationError) -> dict[str, Any]:
        return docgen.error_body(exc)

    async def _send_error(self, call: Call, exc: ApplicationError) -> None:
        await super()._send_error(call, docgen.http_error(exc))


def stream_chat(*, principal: Principal, project_id: str, conversation_id: str, title: str) -> Chat:
    """The chat a ``/stream`` request addresses, created on first use (sync).

    Raises:
        Conflict: the conversation was started in another project of the workspace.
    """
    from apps.chats.services import chat_get_or_create_for_client_id
    from apps.projects.services import project_get_or_create_for_client_id

    project = project_get_or_create_for_client_id(workspace=principal.workspace, client_id=project_id)
    chat = chat_get_or_create_for_client_id(project=project, client_id=conversation_id, title=title)
    if chat.project_id != project.pk:
        raise Conflict("This conversation_id belongs to another project of this workspace.",
                       code="conversation_in_other_project")
    return chat


def generate_chat(*, principal: Principal, title: str) -> Chat:
    """A new chat in the workspace's default project, for one legacy ``/generate`` call (sync)."""
    from apps.chats.services import chat_create
    from apps.projects.services import project_get_or_create_default

    project = project_get_or_create_default(workspace=principal.workspace)
    chat = chat_create(project=project, mode="chat", title=title)
    chat.project = project
    return chat


def discard_chat(*, chat: Chat) -> None:
    """Remove a chat made for a run that then failed to start, so the refusal leaves nothing."""
    from apps.chats.services import chat_delete

    chat_delete(chat=chat)


def _title(message: str) -> str:
    return " ".join(message.split())[:80]


def _run_headers(handle: engine.RunHandle, project_id: str) -> Headers:
    return [(b"x-run-id", handle.run_id.encode()), (b"x-chat-id", handle.chat_id.encode()),
            (b"x-project-id", project_id.encode())]


class ChatStreamEndpoint(DocgenEndpoint):
    """``POST /api/v1/chat/stream``: ``message`` … ``done`` | ``error`` events."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        request = parse_stream_request(parse_json(body))
        chat = await database_sync_to_async(stream_chat)(
            principal=principal, project_id=str(request.project_id),
            conversation_id=str(request.conversation_id), title=_title(request.message))
        handle = await engine.start_run(RunRequest(
            principal=principal, chat=chat, text=request.message, user_name=request.user_name,
            doc_type=request.doc_type, history=request.history, project_context=request.project_context or None,
            metadata=request.metadata or None))
        sub = await engine.subscribe(handle.run_id, 0)
        project_id = str(chat.project_id)
        await call.start_stream(_run_headers(handle, project_id))
        encoder = docgen.StreamEncoder(doc_type=request.doc_type, project_id=project_id,
                                       conversation_id=str(request.conversation_id))
        await stream_until_done_or_disconnect(call, sub, encoder.encode)


class ChatGenerateEndpoint(DocgenEndpoint):
    """Legacy ``POST /api/v1/chat/generate``: ``token`` … ``done`` | ``error`` events."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        request = parse_generate_request(parse_json(body))
        encoder = docgen.LegacyEncoder()
        chat = await database_sync_to_async(generate_chat)(principal=principal, title=_title(request.message))
        try:
            handle = await engine.start_run(RunRequest(
                principal=principal, chat=chat, text=request.message, doc_type=request.doc_type,
                history=request.chat_history, project_context=request.project_context or None))
        except ApplicationError:
            await database_sync_to_async(discard_chat)(chat=chat)
            raise
        sub = await engine.subscribe(handle.run_id, 0)
        await call.start_stream(_run_headers(handle, str(chat.project_id)))
        await stream_until_done_or_disconnect(call, sub, encoder.encode)


class ChatMessageEndpoint(DocgenEndpoint):
    """``POST /api/v1/chat/message``: deprecated, always 400 (after authentication)."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        await call.respond_json({"detail": DEPRECATED_MESSAGE}, status=400)
