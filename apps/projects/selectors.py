"""Reads of projects, always scoped to a workspace."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.core.models import Workspace
from apps.core.selectors import get_scoped
from apps.projects.models import Project


def project_list(*, workspace: Workspace) -> QuerySet[Project]:
    return Project.objects.filter(workspace=workspace).order_by("-created_at", "-id")


def project_get(*, workspace: Workspace, project_id: object) -> Project:
    """Raises NotFound for a missing id, a malformed id or another workspace's project."""
    return get_scoped(Project.objects.filter(workspace=workspace), project_id, label="Project")


def project_get_by_id_or_slug(*, workspace: Workspace, reference: object) -> Project:
    """A project by its UUID or its slug (seed 004 accepts either).

    Raises:
        NotFound: neither matches in the caller's workspace.
    """
    from apps.core.errors import NotFound
    from apps.core.selectors import parse_uuid

    scoped = Project.objects.filter(workspace=workspace)
    if parse_uuid(reference) is not None:
        return get_scoped(scoped, reference, label="Project")
    project = scoped.filter(slug=str(reference)).first() if isinstance(reference, str) else None
    if project is None:
        raise NotFound("Project not found.")
    return project
