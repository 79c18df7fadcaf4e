"""Reads of chats, runs and run events, always scoped to a workspace."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.chats.models import Chat, Run
from apps.core.models import Workspace
from apps.core.selectors import get_scoped
from apps.projects.models import Project


def chat_list(*, project: Project) -> QuerySet[Chat]:
    return Chat.objects.filter(project=project).order_by("-created_at", "-id")


def chat_get(*, workspace: Workspace, chat_id: object, project: Project | None = None) -> Chat:
    """Raises NotFound unless the chat belongs to ``workspace`` (and ``project`` if given)."""
    qs = Chat.objects.select_related("project").filter(project__workspace=workspace)
    if project is not None:
        qs = qs.filter(project=project)
    return get_scoped(qs, chat_id, label="Chat")


def run_get(*, workspace: Workspace, run_id: object) -> Run:
    qs = Run.objects.select_related("chat", "chat__project").filter(
        chat__project__workspace=workspace
    )
    return get_scoped(qs, run_id, label="Run")
