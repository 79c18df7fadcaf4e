"""Read helpers shared by every app's selectors."""
from __future__ import annotations

import uuid
from typing import TypeVar

from django.db.models import Model, QuerySet

from apps.core.errors import NotFound
from apps.core.models import ApiKey, Workspace

M = TypeVar("M", bound=Model)


def parse_uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def get_scoped(queryset: QuerySet[M], object_id: object, *, label: str) -> M:
    """Fetch one object from an already workspace-scoped queryset.

    A malformed id, a missing object and another workspace's object all raise the
    same ``NotFound``, so callers cannot tell them apart.
    """
    pk = parse_uuid(object_id)
    if pk is None:
        raise NotFound(f"{label} not found.")
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} not found.")
    return obj


def api_key_list(*, workspace: Workspace) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(workspace=workspace).order_by("-created_at", "-id")


def api_key_get(*, workspace: Workspace, key_id: object) -> ApiKey:
    return get_scoped(ApiKey.objects.filter(workspace=workspace), key_id, label="API key")
