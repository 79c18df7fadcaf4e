"""Admin for tenancy: workspaces, members and API keys (prefix only; the key is shown once)."""
from __future__ import annotations

from django.apps import apps
from django.contrib import admin, messages
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from apps.core.models import ApiKey, Membership, Workspace
from apps.core.services import api_key_create, api_key_revoke


def register_remaining(app_label: str) -> None:
    """Register every model of ``app_label`` that has no admin yet with a plain, safe one.

    Foreign keys become raw-id inputs so a form never renders a select of a big table.
    """
    for model in apps.get_app_config(app_label).get_models():
        if admin.site.is_registered(model):
            continue
        foreign_keys = [f.name for f in model._meta.get_fields() if isinstance(f, ForeignKey)]
        options = {"raw_id_fields": foreign_keys, "list_select_related": foreign_keys or False}
        admin.site.register(model, type(f"{model.__name__}Admin", (admin.ModelAdmin,), options))


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_limit", "credit_used", "created_at")
    search_fields = ("name",)
    readonly_fields = ("id", "credit_used", "created_at", "updated_at")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role", "workspace")
    list_select_related = ("user", "workspace")
    search_fields = ("user__username", "workspace__name")
    raw_id_fields = ("user", "workspace")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here like anywhere else: the raw key appears once, in a message."""

    list_display = ("prefix", "name", "workspace", "user", "created_at", "last_used_at", "is_active")
    list_filter = ("workspace", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("workspace", "user")
    search_fields = ("name", "prefix", "workspace__name")
    raw_id_fields = ("workspace", "user")
    exclude = ("key_hash",)
    actions = ("revoke",)

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: ApiKey) -> bool:
        return obj.is_active

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("workspace", "user", "name")
        return ("prefix", "name", "workspace", "user", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("prefix", "workspace", "user", "created_at", "last_used_at", "revoked_at")

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = api_key_create(workspace=obj.workspace, user=obj.user, name=obj.name)
        # The admin goes on with ``obj``; make it the row the service stored.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created.api_key, field.attname))
        obj._state.adding = False
        obj._state.db = created.api_key._state.db
        messages.warning(
            request,
            f"New API key — copy it now, it is not stored and will not be shown again: {created.raw_key}",
        )

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=key)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return super().get_queryset(request).defer("key_hash")


register_remaining("core")
