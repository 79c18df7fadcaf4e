from __future__ import annotations

from django.contrib import admin

from apps.knowledge.models import Chunk, Document


class ChunkInline(admin.TabularInline):
    model = Chunk
    fields = ("ordinal", "heading_path", "char_count", "token_count", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("ordinal",)

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("path", "project", "doc_type", "source", "status", "chunk_count", "embedding_model",
                    "updated_at")
    list_filter = ("status", "source", "doc_type", "embedding_model")
    search_fields = ("path", "project__name", "project__id")
    readonly_fields = ("id", "checksum", "status", "error", "embedding_model", "chunk_count", "created_at",
                       "updated_at")
    raw_id_fields = ("project",)
    inlines = [ChunkInline]


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ("document", "ordinal", "heading_path", "char_count", "token_count")
    search_fields = ("document__path", "heading_path", "text")
    exclude = ("embedding",)
    readonly_fields = ("document", "project", "ordinal", "heading_path", "text", "char_count", "token_count")
    list_select_related = ("document",)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
