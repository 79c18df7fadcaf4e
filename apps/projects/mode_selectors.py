"""Reads of a project's custom modes."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.projects.models import CustomMode, Project


def custom_mode_list(*, project: Project) -> QuerySet[CustomMode]:
    return CustomMode.objects.filter(project=project).order_by("name")


def custom_mode_get(*, project: Project, name: str) -> CustomMode:
    """Raises NotFound for a name the project has no mode of (the project is already scoped)."""
    mode = CustomMode.objects.filter(project=project, name=name).first()
    if mode is None:
        raise NotFound("Mode not found.")
    return mode
