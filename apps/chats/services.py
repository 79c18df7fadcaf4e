"""Writes of chats."""
from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from apps.chats.models import BUILTIN_MODES, Chat
from apps.core.errors import Conflict, ValidationFailed
from apps.projects.models import CustomMode, Project


def chat_create(*, project: Project, mode: str = "chat", title: str = "", default_model: str = "",
                is_default: bool = False) -> Chat:
    return Chat.objects.create(
        project=project, mode=mode, title=title, default_model=default_model, is_default=is_default
    )


# Chat ids derived from the ids clients choose themselves (useChat's ``id``, seed 002's
# ``conversation_id``, seed 000's ``chatId``). The workspace is part of the name, so two
# workspaces using the same id get different chats and neither can address the other's.
CLIENT_CHAT_NAMESPACE = uuid.UUID("6f1d3c2e-9a4b-5e7f-8c1d-2b3a4c5d6e7f")


def chat_id_for_client_id(*, workspace_id: object, client_id: str) -> uuid.UUID:
    return uuid.uuid5(CLIENT_CHAT_NAMESPACE, f"{workspace_id}:{client_id}")


def chat_get_or_create_for_client_id(*, project: Project, client_id: str, title: str = "",
                                     mode: str = "chat") -> Chat:
    """The chat a client addresses by an id of its own, created in ``project`` on first use.

    Returns:
        The chat (possibly in another project of the same workspace, where it was first created).
    """
    chat_id = chat_id_for_client_id(workspace_id=project.workspace_id, client_id=client_id)
    chat = Chat.objects.select_related("project").filter(pk=chat_id).first()
    if chat is not None:
        return chat
    try:
        with transaction.atomic():
            return Chat.objects.create(id=chat_id, project=project, mode=mode, title=title[:200])
    except IntegrityError:  # created concurrently by a request with the same id
        return Chat.objects.select_related("project").get(pk=chat_id)


def chat_mode_validate(*, project: Project, mode: str) -> str:
    """Return ``mode`` if it is a built-in mode or a CustomMode of ``project``.

    Raises:
        ValidationFailed: (field ``mode``) for anything else.
    """
    if mode in BUILTIN_MODES or CustomMode.objects.filter(project=project, name=mode).exists():
        return mode
    raise ValidationFailed(
        f"Unknown mode '{mode}': use build, plan, chat or a custom mode of this project.",
        field="mode",
        code="invalid_mode",
    )


def chat_update(*, chat: Chat, title: str | None = None, mode: str | None = None,
                default_model: str | None = None, dsl_enabled: bool | None = None) -> Chat:
    """Change the given attributes; ``None`` leaves one as it is.

    Raises:
        ValidationFailed: an unknown mode (field ``mode``).
    """
    changes: dict[str, object] = {}
    if title is not None:
        changes["title"] = title
    if mode is not None:
        changes["mode"] = chat_mode_validate(project=chat.project, mode=mode)
    if default_model is not None:
        changes["default_model"] = default_model
    if dsl_enabled is not None:
        changes["dsl_enabled"] = dsl_enabled
    for name, value in changes.items():
        setattr(chat, name, value)
    if changes:
        chat.save(update_fields=[*changes, "updated_at"])
    return chat


@transaction.atomic
def chat_delete(*, chat: Chat) -> None:
    """Delete a chat with its messages and runs. A project keeps at least one chat.

    When the default chat goes, the oldest remaining chat becomes the default.

    Raises:
        Conflict: ``chat`` is the project's last chat.
    """
    # Lock the project so two concurrent deletes cannot remove its last two chats.
    Project.objects.select_for_update().filter(pk=chat.project_id).first()
    others = Chat.objects.filter(project_id=chat.project_id).exclude(pk=chat.pk)
    successor = others.order_by("created_at", "id").first()
    if successor is None:
        raise Conflict("A project keeps at least one chat.", code="last_chat")
    chat.delete()
    if chat.is_default and not others.filter(is_default=True).exists():
        Chat.objects.filter(pk=successor.pk).update(is_default=True)
