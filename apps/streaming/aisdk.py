"""The Vercel AI SDK transport: what ``useChat`` / ``DefaultChatTransport`` call.

* ``POST /api/ai-sdk/chat`` — useChat's body ``{id, messages, trigger, messageId?}`` → the
  UI-message stream of the new (or, for a repeated message, the existing) run.
* ``GET /api/ai-sdk/chat/{id}/stream`` — useChat's ``resume``: the chat's running run from
  its start, or 204 when none runs.
* ``POST /api/ai-sdk/chat/{id}/stop`` — stops the chat's running run.

The chat is the one useChat's ``id`` names in the caller's workspace, created on first use in
the project of ``X-Project-Id`` / ``?projectId=`` / body ``projectId`` (id or slug), else the
workspace's default project. A run outlives its connection, so a reload resumes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from apps.chats.attachments import AttachmentUpload
from apps.chats.models import Chat
from apps.core.auth import Principal
from apps.core.errors import NotFound, ValidationFailed
from apps.engine import api as engine
from apps.engine import validation as v
from apps.engine.api import RunRequest
from apps.streaming.dialects.aisdk import DONE, HEADER, UIMessageStreamEncoder
from apps.streaming.http import Call, Endpoint, stream_until_done_or_disconnect

ROLES = ("user", "assistant", "system")
TRIGGERS = ("submit-message", "regenerate-message")
MAX_ID_LENGTH = 200
NO_STREAM_HEADERS = [(b"cache-control", b"no-cache")]


@dataclass(frozen=True)
class ChatTurn:
    """A useChat request, validated without the database."""

    client_chat_id: str
    text: str
    history: list[tuple[str, str]] | None  # None: the chat's stored history
    attachments: list[AttachmentUpload]
    client_message_id: str | None
    trigger: str
    project_ref: str | None
    model: str | None
    temperature: float | None
    max_tokens: Any
    reasoning: bool
    enable_dsl: bool | None


def _identifier(value: Any, *, field: str, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise ValidationFailed(f"{field} must be a non-empty string of at most {MAX_ID_LENGTH} characters.",
                               field=field)
    return value


def _parts(message: dict[str, Any], where: str) -> list[dict[str, Any]]:
    parts = message.get("parts")
    if not isinstance(parts, list):
        raise ValidationFailed(f"{where}.parts must be a list of message parts.", field=f"{where}.parts")
    for index, part in enumerate(parts):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise ValidationFailed(f"{where}.parts[{index}] must be an object with a string type.",
                                   field=f"{where}.parts[{index}].type")
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise ValidationFailed(f"{where}.parts[{index}].text must be a string.",
                                   field=f"{where}.parts[{index}].text")
    return parts


def _text(parts: list[dict[str, Any]], where: str, *, required: bool) -> str:
    # Only text parts reach the model: reasoning, tool and data parts are this server's own output.
    text = "\n".join(part["text"] for part in parts if part["type"] == "text")
    if required and not text.strip():
        raise ValidationFailed(f"{where} must have a text part with the user's message.", field=f"{where}.parts")
    return v.message_text(text, field=f"{where}.parts", required=False)


def _files(parts: list[dict[str, Any]], where: str) -> list[AttachmentUpload]:
    files = [
        {"type": "image" if str(p.get("mediaType", "")).startswith("image/") else "file", "url": p.get("url"),
         "name": str(p.get("filename") or "")}
        for p in parts if p["type"] == "file"
    ]
    return v.attachments(files or None, field=f"{where}.parts")


def _client_message_id(user_id: str | None, text: str, trigger: str, regenerated: str | None) -> str | None:
    """The idempotency key of the turn: a retried POST of the same turn attaches to its run.

    The text is part of it because useChat keeps a message's id when the user edits it; a
    regeneration names the answer it replaces, and one that names none always starts anew.
    """
    if user_id is None or (trigger == "regenerate-message" and regenerated is None):
        return None
    key = f"{user_id}|{text}" if trigger == "submit-message" else f"{user_id}|{text}|regenerate|{regenerated}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    prefix = user_id if len(user_id) <= v.MAX_CLIENT_MESSAGE_ID - 30 else hashlib.sha256(user_id.encode()).hexdigest()
    return f"{prefix[:v.MAX_CLIENT_MESSAGE_ID - 30]}:ai:{digest}"


def parse_chat_request(data: Any, *, project_ref: str | None = None) -> ChatTurn:
    """Validate useChat's request body (plus the options its ``body`` may add).

    Args:
        data: the decoded JSON body.
        project_ref: the project named by header or query (the body's ``projectId`` otherwise).
    Returns:
        The turn: the last message's text, the earlier messages as history (None when the
        body holds only the new message: the chat's stored history is used), the idempotency key.
    Raises:
        ValidationFailed: naming the field.
    """
    body = v.require_object(data)
    client_chat_id = _identifier(body.get("id"), field="id")
    assert client_chat_id is not None
    trigger = body.get("trigger", "submit-message")
    if trigger not in TRIGGERS:
        raise ValidationFailed(f"trigger must be one of {', '.join(TRIGGERS)}.", field="trigger")
    regenerated = _identifier(body.get("messageId"), field="messageId", required=False)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValidationFailed("messages must be a non-empty list of UI messages.", field="messages")
    limit = settings.CHAT_MAX_HISTORY_MESSAGES
    if len(messages) - 1 > limit:
        raise ValidationFailed(f"messages holds {len(messages) - 1} earlier messages; the maximum is {limit}.",
                               field="messages")
    turns: list[tuple[str, str]] = []
    text = ""
    last_parts: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise ValidationFailed(f"{where} must be an object with id, role and parts.", field=where)
        role = message.get("role")
        if role not in ROLES:
            raise ValidationFailed(f"{where}.role must be one of {', '.join(ROLES)} (got {role!r}).",
                                   field=f"{where}.role")
        _identifier(message.get("id"), field=f"{where}.id", required=False)
        is_last = index == len(messages) - 1
        if is_last and role != "user":
            raise ValidationFailed(f"{where} must be the user's new message (role user).", field=f"{where}.role")
        parts = _parts(message, where)
        text = _text(parts, where, required=is_last)
        if is_last:
            last_parts = parts
        elif text.strip():
            turns.append((role, text))
    last = messages[-1]
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ValidationFailed("model must be a non-empty string.", field="model")
    body_project = _identifier(body.get("projectId"), field="projectId", required=False)
    return ChatTurn(
        client_chat_id=client_chat_id,
        text=text,
        history=turns if len(messages) > 1 else None,
        attachments=_files(last_parts, f"messages[{len(messages) - 1}]"),
        client_message_id=_client_message_id(last.get("id"), text, trigger, regenerated),
        trigger=trigger,
        project_ref=project_ref or body_project,
        model=model,
        temperature=v.temperature(body.get("temperature")),
        max_tokens=body.get("maxTokens"),
        reasoning=bool(v.optional_bool(body.get("reasoning"), field="reasoning")),
        enable_dsl=v.optional_bool(body.get("enableDSL"), field="enableDSL"),
    )


def _project_ref(call: Call) -> str | None:
    ref = call.headers.get("x-project-id") or call.query().get("projectId")
    return (ref.strip() or None) if ref else None


def _existing_chat(principal: Principal, client_chat_id: str) -> Chat | None:
    from apps.chats.selectors import chat_for_client_id

    return chat_for_client_id(workspace=principal.workspace, client_id=client_chat_id)


def chat_for_turn(principal: Principal, turn: ChatTurn) -> Chat:
    """The chat useChat's id names, created on first use (sync).

    Raises:
        NotFound: the named project is not in the caller's workspace.
        InvalidModel, NoProvider: before a new chat is created for an unusable model.
    """
    from apps.chats.services import chat_get_or_create_for_client_id
    from apps.projects.selectors import project_get_by_id_or_slug
    from apps.projects.services import project_get_or_create_default
    from apps.providers.registry import resolve_model

    workspace = principal.workspace
    project = project_get_by_id_or_slug(workspace=workspace, reference=turn.project_ref) if turn.project_ref else None
    chat = _existing_chat(principal, turn.client_chat_id)
    if chat is not None:
        return chat
    if turn.model:
        resolve_model(turn.model)  # an unusable model leaves no empty chat behind
    project = project or project_get_or_create_default(workspace=workspace)
    return chat_get_or_create_for_client_id(project=project, client_id=turn.client_chat_id,
                                            title=turn.text.strip().splitlines()[0][:80])


def running_run(principal: Principal, client_chat_id: str) -> tuple[Chat | None, str | None]:
    """The chat useChat's id names in the caller's workspace and its running run, if any (sync)."""
    from apps.engine.store import chat_running_run_id

    chat = _existing_chat(principal, client_chat_id)
    if chat is None:
        return None, None
    return chat, chat_running_run_id(chat_id=str(chat.pk))


async def stream_run(call: Call, run_id: str, chat_id: str) -> None:
    sub = await engine.subscribe(run_id, 0)
    await call.start_stream([HEADER, (b"x-run-id", run_id.encode()), (b"x-chat-id", chat_id.encode())])
    encoder = UIMessageStreamEncoder()
    # No cancel on close: the run goes on, and useChat's resume picks it up after a reload.
    await stream_until_done_or_disconnect(call, sub, encoder.encode, trailer=lambda: [DONE])


class ChatEndpoint(Endpoint):
    """``POST /api/ai-sdk/chat`` — useChat's send and regenerate."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        turn = parse_chat_request(call.json_body(body), project_ref=_project_ref(call))
        chat = await database_sync_to_async(chat_for_turn)(principal, turn)
        handle = await engine.start_run(
            RunRequest(
                principal=principal,
                chat=chat,
                text=turn.text,
                model=turn.model,
                temperature=turn.temperature,
                max_tokens=turn.max_tokens,
                attachments=turn.attachments,
                client_message_id=turn.client_message_id,
                history=turn.history,
                enable_dsl=turn.enable_dsl,
                reasoning=turn.reasoning,
            )
        )
        await stream_run(call, handle.run_id, handle.chat_id)


class ResumeEndpoint(Endpoint):
    """``GET /api/ai-sdk/chat/{id}/stream`` — the running run's stream from its start, else 204.

    A chat that does not exist in the caller's workspace has no running run either: 204, as for
    a fresh chat id (useChat asks on every mount), so another workspace's chat looks the same.
    """

    methods = ("GET",)

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        client_chat_id = _identifier(call.kwargs["chat_id"], field="id")
        assert client_chat_id is not None
        chat, run_id = await database_sync_to_async(running_run)(principal, client_chat_id)
        if chat is None or run_id is None:
            await call.send({"type": "http.response.start", "status": 204, "headers": NO_STREAM_HEADERS})
            await call.send({"type": "http.response.body", "body": b""})
            call.started = True
            return
        await stream_run(call, run_id, str(chat.pk))


class StopEndpoint(Endpoint):
    """``POST /api/ai-sdk/chat/{id}/stop`` — stops the chat's running run (useChat's own ``stop()``
    only closes the connection, which leaves the run going)."""

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        client_chat_id = _identifier(call.kwargs["chat_id"], field="id")
        assert client_chat_id is not None
        chat = await database_sync_to_async(_existing_chat)(principal, client_chat_id)
        if chat is None:
            raise NotFound("Chat not found.")
        run_id = await engine.stop_chat(chat)
        await call.respond_json({"stopped": run_id is not None, "runId": run_id, "chatId": str(chat.pk)})
