"""Writes of projects."""
from __future__ import annotations

import uuid

from django.db import transaction

from apps.core.models import Workspace
from apps.core.selectors import parse_uuid
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


# Project ids derived from the ids clients choose themselves (seed 002's ``project_id``). The
# workspace is part of the name, so the same client id names different projects in two workspaces.
CLIENT_PROJECT_NAMESPACE = uuid.UUID("3b7e2f60-5c1a-5d8e-9f24-7a6b1c0d9e8f")


@transaction.atomic
def project_get_or_create_for_client_id(*, workspace: Workspace, client_id: str) -> Project:
    """The project a client addresses by an id of its own.

    ``client_id`` names a project of the workspace when it is that project's id; otherwise it
    names the project whose id is derived from the workspace and ``client_id``, created (with
    its default chat) on first use. Another workspace's project id is therefore just an unknown
    id here: it gets a new project of the caller's own, like any never-seen id.
    """
    from apps.chats.services import chat_create

    own = Project.objects.filter(workspace=workspace, pk=client_id).first() if parse_uuid(client_id) else None
    if own is not None:
        return own
    derived = uuid.uuid5(CLIENT_PROJECT_NAMESPACE, f"{workspace.pk}:{client_id}")
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    project = Project.objects.filter(pk=derived).first()
    if project is not None:
        return project
    name = f"Project {client_id}"[:200]
    slug = project_unique_slug(workspace_id=workspace.pk, name=name)
    project = Project.objects.create(id=derived, workspace=workspace, name=name, slug=slug)
    chat_create(project=project, mode="chat", title="Default chat", is_default=True)
    return project
