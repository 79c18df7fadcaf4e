"""Admin: plans with their steps inline (status and risk editable, for support)."""
from __future__ import annotations

from django.contrib import admin

from apps.core.admin import register_remaining
from apps.plans.models import Plan, PlanStep


class PlanStepInline(admin.TabularInline):
    model = PlanStep
    extra = 0
    fields = ("index", "title", "description", "files", "risk", "status")
    ordering = ("index",)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "chat", "status", "step_count", "created_at", "updated_at")
    list_filter = ("status", "project__workspace")
    list_select_related = ("project", "chat")
    search_fields = ("id", "raw_text", "chat__title", "project__name")
    raw_id_fields = ("project", "chat", "source_message", "source_run", "run")
    readonly_fields = ("id", "created_at", "updated_at")
    ordering = ("-created_at",)
    inlines = (PlanStepInline,)

    @admin.display(description="steps")
    def step_count(self, obj: Plan) -> int:
        return obj.steps.count()


register_remaining("plans")
