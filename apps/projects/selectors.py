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
