"""Read helpers shared by every app's selectors."""
from __future__ import annotations

import uuid
from typing import TypeVar

from django.db.models import Model, QuerySet

from apps.core.errors import NotFound

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
