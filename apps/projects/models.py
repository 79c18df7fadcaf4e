"""Projects and what belongs to a project besides its chats: files and custom modes."""
from __future__ import annotations

import uuid

from django.db import models

from apps.core.models import TimeStampedModel, Workspace


class Project(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"], name="project_ws_created")]

    def __str__(self) -> str:
        return self.name


class ProjectFile(TimeStampedModel):
    """A file of the project's source tree, edited by build-mode tools and direct-save."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500)
    content = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "path"], name="uniq_project_file_path")
        ]

    def __str__(self) -> str:
        return self.path


class CustomMode(TimeStampedModel):
    """A user-defined chat mode: its own system prompt and allowed tools."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="custom_modes")
    name = models.SlugField(max_length=50)
    system_prompt = models.TextField(blank=True)
    allowed_tools = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="uniq_custom_mode_name")
        ]

    def __str__(self) -> str:
        return self.name
