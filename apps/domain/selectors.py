"""Reads of a chat's domain model: the current one, its versions and diffs.

Callers scope the chat to the caller's workspace first (``apps.chats.selectors.chat_get``).
"""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.chats.models import Chat
from apps.core.errors import NotFound
from apps.domain.diff import dsl_diff
from apps.domain.merge import empty_dsl
from apps.domain.models import DomainModelVersion


def version_payload(version: DomainModelVersion) -> dict[str, Any]:
    """The ``dsl.update`` payload of one version."""
    dsl = version.dsl or empty_dsl()
    return {
        "domainModel": {"entities": dsl.get("entities", {}), "relationships": dsl.get("relationships", [])},
        "version": version.version,
        "phase": version.phase,
        "readiness": version.readiness,
        "confidence": version.confidence,
    }


def domain_version_latest(*, chat: Chat) -> DomainModelVersion | None:
    return DomainModelVersion.objects.filter(chat=chat).order_by("-version").first()


def domain_model_current(*, chat: Chat) -> dict[str, Any] | None:
    """The current ``dsl.update`` payload, or None before the first version.

    Example: ``{"domainModel": {"entities": {...}, "relationships": [...]}, "version": 3,
    "phase": "refining", "readiness": 72, "confidence": 0.8}``.
    """
    latest = domain_version_latest(chat=chat)
    return version_payload(latest) if latest is not None else None


def domain_version_list(*, chat: Chat) -> QuerySet[DomainModelVersion]:
    return DomainModelVersion.objects.filter(chat=chat).order_by("version")


def domain_version_get(*, chat: Chat, version: int) -> DomainModelVersion:
    """Raises NotFound for a version the chat does not have."""
    found = DomainModelVersion.objects.filter(chat=chat, version=version).first()
    if found is None:
        raise NotFound(f"Domain model version {version} not found.")
    return found


def domain_version_diff(*, chat: Chat, from_version: int, to_version: int) -> dict[str, Any]:
    """The diff between two versions; version 0 stands for the empty model before version 1.

    Raises:
        NotFound: either version does not exist.
    """
    def dsl_of(number: int) -> dict[str, Any]:
        return empty_dsl() if number == 0 else domain_version_get(chat=chat, version=number).dsl
    return dsl_diff(dsl_of(from_version), dsl_of(to_version))
