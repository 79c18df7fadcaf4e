"""Turns a native (seed 001) message body into an engine RunRequest."""

from __future__ import annotations

from typing import Any

from apps.chats.models import Chat
from apps.core.auth import Principal
from apps.core.errors import ValidationFailed
from apps.engine import validation as v
from apps.engine.api import RunRequest
from apps.engine.opening import ChatRef, chat_for_run


def native_chat(principal: Principal, project_id: Any, chat_id: Any) -> Chat:
    """The chat addressed by a native request, scoped to the caller's workspace (sync).

    The same one-query lookup the engine makes when it opens a run (``chat_for_run``).
    """
    return chat_for_run(workspace_id=principal.workspace.pk, ref=ChatRef(project_id=project_id, chat_id=chat_id))


def native_run_request(principal: Principal, project_id: Any, data: Any, *, mode: str | None = None) -> RunRequest:
    """Validate the shape of a ``{chatId?, text, model?, mode?, temperature?, maxTokens?, attachments?,
    clientMessageId?, enableDSL?, reasoning?}`` body, without the database. A ``mode`` argument
    (plan mode's endpoint) wins over the body's.

    The engine looks the chat up (in the caller's workspace) when it starts the run.
    """
    body = v.require_object(data)
    text = v.message_text(body.get("text"), field="text")
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ValidationFailed("model must be a non-empty string.", field="model")
    if mode is None and body.get("mode") is not None:  # a per-message mode; the engine checks the name
        mode = body["mode"]
        if not isinstance(mode, str) or not mode.strip() or len(mode) > 50:
            raise ValidationFailed("mode must be build, plan, chat or a custom mode's name.", field="mode",
                                   code="invalid_mode")
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
