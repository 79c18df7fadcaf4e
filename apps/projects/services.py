"""Writes of projects."""
from __future__ import annotations

from django.db import transaction

from apps.core.models import Workspace
from apps.projects.models import Project, project_unique_slug


@transaction.atomic
def project_create(*, workspace: Workspace, name: str, description: str = "") -> Project:
    """Create a project together with its default chat; its slug is derived from the name."""
    from apps.chats.services import chat_create

    # Serialise creations in this workspace so two of the same name cannot pick one slug.
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    slug = project_unique_slug(workspace_id=workspace.pk, name=name)
    project = Project.objects.create(workspace=workspace, name=name, slug=slug, description=description)
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


DEFAULT_PROJECT_NAME = "Default project"


@transaction.atomic
def project_get_or_create_default(*, workspace: Workspace) -> Project:
    """The workspace's default project: its oldest one, created on first use when it has none.

    Dialects whose requests name no project (seed 000 ``POST /api/chat``, ``/v1`` without
    ``X-Project-Id``, useChat) work in it.
    """
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    project = Project.objects.filter(workspace=workspace).order_by("created_at", "id").first()
    if project is not None:
        return project
    return project_create(workspace=workspace, name=DEFAULT_PROJECT_NAME)
