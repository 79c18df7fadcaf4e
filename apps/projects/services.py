"""Writes of projects."""
from __future__ import annotations

from django.db import transaction

from apps.core.models import Workspace
from apps.projects.models import Project


@transaction.atomic
def project_create(*, workspace: Workspace, name: str, description: str = "") -> Project:
    """Create a project together with its default chat."""
    from apps.chats.services import chat_create

    project = Project.objects.create(workspace=workspace, name=name, description=description)
    chat_create(project=project, mode="chat", title="Default chat", is_default=True)
    return project


def project_update(*, project: Project, name: str | None = None, description: str | None = None) -> Project:
    fields = []
    if name is not None:
        project.name = name
        fields.append("name")
    if description is not None:
        project.description = description
        fields.append("description")
    if fields:
        project.save(update_fields=[*fields, "updated_at"])
    return project


def project_delete(*, project: Project) -> None:
    project.delete()
