"""Turns a native (seed 001) message body into an engine RunRequest."""

from __future__ import annotations

from typing import Any

from apps.chats.models import Chat
from apps.chats.selectors import chat_get
from apps.core.auth import Principal
from apps.core.errors import NotFound
from apps.engine import validation as v
from apps.engine.api import RunRequest
from apps.projects.selectors import project_get


def native_chat(principal: Principal, project_id: Any, chat_id: Any) -> Chat:
    """The chat addressed by a native request, scoped to the caller's workspace (sync)."""
    project = project_get(workspace=principal.workspace, project_id=project_id)
    if chat_id is None:
        chat = (
            Chat.objects.select_related("project").filter(project=project).order_by("-is_default", "created_at").first()
        )
        if chat is None:
            raise NotFound("Chat not found.")
        return chat
    return chat_get(workspace=principal.workspace, chat_id=chat_id, project=project)


def native_run_request(principal: Principal, project_id: Any, data: Any, *, mode: str | None = None) -> RunRequest:
    """Validate a ``{chatId, text, model?, temperature?, maxTokens?, attachments?, clientMessageId?}`` body."""
    body = v.require_object(data)
    text = v.message_text(body.get("text"), field="text")
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        from apps.core.errors import ValidationFailed

        raise ValidationFailed("model must be a non-empty string.", field="model")
    request = RunRequest(
        principal=principal,
        chat=native_chat(principal, project_id, body.get("chatId")),
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
    return request
