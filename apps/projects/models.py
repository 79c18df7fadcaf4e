"""Projects and what belongs to a project besides its chats: files and custom modes."""
from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.text import slugify

from apps.core.models import TimeStampedModel, Workspace


class Project(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    # A readable handle, unique in the workspace: seed 004's ``projectId`` may be a slug.
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"], name="project_ws_created")]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="uniq_project_slug")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:
            self.slug = project_unique_slug(workspace_id=self.workspace_id, name=self.name, exclude_id=self.pk)
        super().save(*args, **kwargs)


SLUG_MAX = 80


def project_unique_slug(*, workspace_id: Any, name: str, exclude_id: Any = None) -> str:
    """A slug of ``name`` not yet taken in the workspace (``blog``, ``blog-2``, …)."""
    base = slugify(name)[: SLUG_MAX - 8].strip("-") or "project"
    taken = set(
        Project.objects.filter(workspace_id=workspace_id, slug__startswith=base)
        .exclude(pk=exclude_id)
        .values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


class ProjectFile(TimeStampedModel):
    """A file of the project's source tree, edited by build-mode tools and direct-save."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500)
    content = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    size = models.PositiveIntegerField(default=0, help_text="UTF-8 bytes of content")
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "path"], name="uniq_project_file_path")
        ]

    def __str__(self) -> str:
        return self.path


class ProjectFileVersion(models.Model):
    """One stored state of a project file; every write adds one, so history stays readable."""

    class Source(models.TextChoices):
        API = "api", "REST API"
        TOOL = "tool", "model tool call"
        DIRECT_SAVE = "direct_save", "direct-save"

    id = models.BigAutoField(primary_key=True)
    file = models.ForeignKey(ProjectFile, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    content = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=20, choices=Source.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The run whose tool call wrote it; a plain id so a deleted run leaves the history intact.
    run_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file", "version"], name="uniq_project_file_version")
        ]

    def __str__(self) -> str:
        return f"{self.file_id}@{self.version}"


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
