"""Writes of chats."""
from __future__ import annotations

from apps.chats.models import Chat
from apps.projects.models import Project


def chat_create(*, project: Project, mode: str = "chat", title: str = "", default_model: str = "",
                is_default: bool = False) -> Chat:
    return Chat.objects.create(
        project=project, mode=mode, title=title, default_model=default_model, is_default=is_default
    )
