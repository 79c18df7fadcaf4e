"""Turns a native (seed 001) message body into an engine RunRequest."""

from __future__ import annotations

from typing import Any

from apps.chats.models import Chat
from apps.core.auth import Principal
from apps.core.errors import NotFound, ValidationFailed
from apps.core.selectors import get_scoped, parse_uuid
from apps.engine import validation as v
from apps.engine.api import ChatRef, RunRequest
from apps.projects.selectors import project_get


def native_chat(principal: Principal, project_id: Any, chat_id: Any) -> Chat:
    """The chat addressed by a native request, scoped to the caller's workspace (sync)."""
    if chat_id is not None:
        # One query: the chat, in that project, in the caller's workspace.
        project_uuid = parse_uuid(project_id)
        if project_uuid is None:
            raise NotFound("Project not found.")
        chats = Chat.objects.select_related("project").filter(
            project_id=project_uuid, project__workspace=principal.workspace)
        return get_scoped(chats, chat_id, label="Chat")
    project = project_get(workspace=principal.workspace, project_id=project_id)
    chat = Chat.objects.select_related("project").filter(project=project).order_by("-is_default", "created_at").first()
    if chat is None:
        raise NotFound("Chat not found.")
    return chat


def native_run_request(principal: Principal, project_id: Any, data: Any, *, mode: str | None = None) -> RunRequest:
    """Validate the shape of a ``{chatId?, text, model?, temperature?, maxTokens?, attachments?,
    clientMessageId?, enableDSL?, reasoning?}`` body, without the database.

    The engine looks the chat up (in the caller's workspace) when it starts the run.
    """
    body = v.require_object(data)
    text = v.message_text(body.get("text"), field="text")
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ValidationFailed("model must be a non-empty string.", field="model")
    return RunRequest(
        principal=principal,
        chat=ChatRef(project_id=project_id, chat_id=body.get("chatId")),
        text=text,
        model=model,
        temperature=v.temperature(body.get("temperature")),
        max_tokens=body.get("maxTokens"),
        attachments=v.attachments(body.get("attachments")),
        client_message_id=v.client_message_id(body.get("clientMessageId")),
        mode=mode,
        enable_dsl=v.optional_bool(body.get("enableDSL"), field="enableDSL"),
        reasoning=bool(v.optional_bool(body.get("reasoning"), field="reasoning")),
    )
