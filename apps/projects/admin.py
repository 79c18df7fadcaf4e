"""Admin for projects, their files and custom modes."""
from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.admin import register_remaining
from apps.projects.models import CustomMode, Project, ProjectFile


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


@admin.register(ProjectFile)
class ProjectFileAdmin(admin.ModelAdmin):
    list_display = ("path", "project", "version", "updated_at")
    list_filter = ("project__workspace", "project")
    list_select_related = ("project",)
    search_fields = ("path", "content")
    raw_id_fields = ("project",)


@admin.register(CustomMode)
class CustomModeAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "updated_at")
    list_filter = ("project__workspace", "project")
    list_select_related = ("project",)
    search_fields = ("name", "system_prompt")
    raw_id_fields = ("project",)


register_remaining("projects")
