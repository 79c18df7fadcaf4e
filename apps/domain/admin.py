"""Admin: inspect domain-model versions; they are history, so nothing is editable."""
from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from apps.domain.diff import diff_summary
from apps.domain.models import DomainModelVersion


def _pretty(value: Any) -> str:
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2))


@admin.register(DomainModelVersion)
class DomainModelVersionAdmin(admin.ModelAdmin):
    list_display = ("chat", "version", "phase", "readiness", "confidence", "author", "changes",
                    "created_at")
    list_filter = ("phase", "author")
    search_fields = ("chat__id", "chat__title")
    ordering = ("-created_at",)
    list_select_related = ("chat",)
    readonly_fields = ("chat", "version", "phase", "readiness", "confidence", "author",
                       "source_message", "created_at", "diff_pretty", "dsl_pretty")
    exclude = ("dsl", "diff")

    @admin.display(description="changes")
    def changes(self, obj: DomainModelVersion) -> str:
        if not obj.diff:
            return "-"
        counts = diff_summary(obj.diff)
        return f"+{counts['added']} ~{counts['changed']} -{counts['removed']}"

    @admin.display(description="diff")
    def diff_pretty(self, obj: DomainModelVersion) -> str:
        return _pretty(obj.diff)

    @admin.display(description="domain model")
    def dsl_pretty(self, obj: DomainModelVersion) -> str:
        return _pretty(obj.dsl)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
