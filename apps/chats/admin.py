"""Admin for inspecting conversations: chats with their messages, runs with their event timeline.

Chats can hold a million messages and runs thousands of events, so pages show a bounded
slice (walked through the same indexes as the API) and link to the filtered full list.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.chats.images import SUPPORTED_MEDIA_TYPES, human_size
from apps.chats.models import Attachment, Chat, Message, Run, RunEvent
from apps.core.admin import register_remaining

CHAT_INLINE_MESSAGES = 50
RUN_TIMELINE_EVENTS = 500
ATTACHMENT_PREVIEW_MAX_BYTES = 1024 * 1024


def _excerpt(text: str, length: int = 160) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


class LatestMessagesFormSet(BaseInlineFormSet):
    """Only the chat's latest messages, oldest first (index ``message_chat_keyset``)."""

    def get_queryset(self) -> Any:
        if not hasattr(self, "_latest"):
            newest = super().get_queryset().order_by("-created_at", "-id")[:CHAT_INLINE_MESSAGES]
            self._latest = list(reversed(newest))
        return self._latest


class MessageInline(admin.TabularInline):
    model = Message
    formset = LatestMessagesFormSet
    fields = ("created_at", "role", "status", "excerpt", "model", "input_tokens", "output_tokens", "cost")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = f"latest {CHAT_INLINE_MESSAGES} messages"

    @admin.display(description="content")
    def excerpt(self, obj: Message) -> str:
        return _excerpt(obj.content)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project", "workspace", "mode", "is_default", "created_at", "updated_at")
    list_filter = ("mode", "dsl_enabled", "project__workspace", "project")
    list_select_related = ("project", "project__workspace")
    search_fields = ("title", "project__name")
    raw_id_fields = ("project",)
    readonly_fields = ("id", "all_messages", "created_at", "updated_at")
    inlines = (MessageInline,)

    @admin.display(description="workspace", ordering="project__workspace__name")
    def workspace(self, obj: Chat) -> str:
        return obj.project.workspace.name

    @admin.display(description="messages")
    def all_messages(self, obj: Chat) -> SafeString | str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:chats_message_changelist") + f"?chat__exact={obj.pk}"
        return format_html('<a href="{}">all {} messages</a>', url, obj.messages.count())


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "chat", "role", "status", "excerpt", "model", "input_tokens",
                    "output_tokens", "cost")
    list_filter = ("role", "status", "chat__mode", "provider", "chat__project__workspace", "chat__project")
    list_select_related = ("chat",)
    search_fields = ("content",)
    raw_id_fields = ("chat",)
    readonly_fields = ("id", "updated_at")
    ordering = ("-created_at", "-id")  # filtered by chat, this walks message_chat_keyset
    show_full_result_count = False  # no second COUNT(*) over a huge table

    @admin.display(description="content")
    def excerpt(self, obj: Message) -> str:
        return _excerpt(obj.content, 80)


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "chat", "status", "model", "provider", "input_tokens", "output_tokens", "cost",
                    "started_at", "finished_at")
    list_filter = ("status", "provider", "chat__mode", "chat__project__workspace", "chat__project")
    list_select_related = ("chat",)
    search_fields = ("chat__title", "error_message", "provider_request_id")
    raw_id_fields = ("chat", "user_message", "assistant_message")
    readonly_fields = ("id", "timeline")
    ordering = ("-started_at",)
    show_full_result_count = False

    @admin.display(description="event timeline")
    def timeline(self, obj: Run) -> SafeString | str:
        if obj.pk is None:
            return "—"
        events = list(obj.events.order_by("seq")[: RUN_TIMELINE_EVENTS + 1])
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (event.seq, event.created_at.isoformat(timespec="milliseconds"), event.type,
                 _excerpt(json.dumps(event.payload, ensure_ascii=False), 200))
                for event in events[:RUN_TIMELINE_EVENTS]
            ),
        )
        more = ""
        if len(events) > RUN_TIMELINE_EVENTS:
            url = reverse("admin:chats_runevent_changelist") + f"?run__exact={obj.pk}"
            more = format_html('<p>First {} events shown. <a href="{}">All events</a></p>',
                               RUN_TIMELINE_EVENTS, url)
        return format_html(
            "<table><thead><tr><th>seq</th><th>time</th><th>type</th><th>payload</th></tr></thead>"
            "<tbody>{}</tbody></table>{}",
            rows,
            more,
        )


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin):
    list_display = ("run", "seq", "type", "created_at")
    list_filter = ("type",)
    list_select_related = ("run",)
    search_fields = ("type",)
    raw_id_fields = ("run",)
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Attachments are evidence of a conversation: shown, never edited (the bytes are not a form field)."""

    list_display = ("created_at", "name", "kind", "media_type", "pixels", "file_size", "chat", "message")
    list_filter = ("kind", "media_type", "workspace")
    list_select_related = ("chat",)
    search_fields = ("name", "sha256")
    fields = ("id", "workspace", "project", "chat", "message", "kind", "media_type", "name", "file_size",
              "pixels", "sha256", "created_at", "preview")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("data")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="size", ordering="size")
    def file_size(self, obj: Attachment) -> str:
        return human_size(obj.size)

    @admin.display(description="pixels")
    def pixels(self, obj: Attachment) -> str:
        return f"{obj.width}×{obj.height}" if obj.width and obj.height else "—"

    @admin.display(description="preview")
    def preview(self, obj: Attachment) -> SafeString | str:
        # Only a sniffed image goes into an <img>, where nothing in it can run.
        if obj.kind != Attachment.Kind.IMAGE or obj.media_type not in SUPPORTED_MEDIA_TYPES:
            return "—"
        if obj.size > ATTACHMENT_PREVIEW_MAX_BYTES:  # inlined as base64, it would bloat the page
            return f"not previewed ({human_size(obj.size)}); GET /api/attachments/{obj.pk} serves it"
        encoded = base64.b64encode(bytes(obj.data)).decode("ascii")
        return format_html('<img src="data:{};base64,{}" alt="" style="max-width:480px;max-height:480px">',
                           obj.media_type, encoded)


register_remaining("chats")
