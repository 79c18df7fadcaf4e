"""Admin for projects, their files and custom modes."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.admin import register_remaining
from apps.projects.models import CustomMode, Project, ProjectFile, ProjectFileVersion


class CustomModeInline(admin.TabularInline):
    model = CustomMode
    extra = 0
    fields = ("name", "system_prompt", "allowed_tools")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "created_at", "updated_at")
    list_filter = ("workspace",)
    list_select_related = ("workspace",)
    search_fields = ("name", "description")
    raw_id_fields = ("workspace",)
    readonly_fields = ("id", "chats_link", "created_at", "updated_at")
    inlines = (CustomModeInline,)

    @admin.display(description="chats")
    def chats_link(self, obj: Project) -> SafeString | str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:chats_chat_changelist") + f"?project__id__exact={obj.pk}"
        return format_html('<a href="{}">{} chat(s)</a>', url, obj.chats.count())


class ProjectFileVersionInline(admin.TabularInline):
    """The file's history, read-only: versions are written by the file services, never edited."""

    model = ProjectFileVersion
    extra = 0
    fields = ("version", "source", "size", "sha256", "author", "run_id", "created_at")
    readonly_fields = fields
    ordering = ("-version",)
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ProjectFile)
class ProjectFileAdmin(admin.ModelAdmin):
    list_display = ("path", "project", "version", "size", "updated_at")
    list_filter = ("project__workspace", "project")
    list_select_related = ("project",)
    search_fields = ("path", "content")
    raw_id_fields = ("project",)
    readonly_fields = ("version", "size", "sha256")
    inlines = (ProjectFileVersionInline,)


@admin.register(ProjectFileVersion)
class ProjectFileVersionAdmin(admin.ModelAdmin):
    list_display = ("file", "version", "source", "size", "created_at")
    list_filter = ("source", "file__project__workspace")
    list_select_related = ("file",)
    search_fields = ("file__path",)
    raw_id_fields = ("file", "author")
    readonly_fields = ("file", "version", "content", "size", "sha256", "source", "author", "run_id", "created_at")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(CustomMode)
class CustomModeAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "updated_at")
    list_filter = ("project__workspace", "project")
    list_select_related = ("project",)
    search_fields = ("name", "system_prompt")
    raw_id_fields = ("project",)


register_remaining("projects")
