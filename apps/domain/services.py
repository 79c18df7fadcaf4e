"""Writes of a chat's domain model: every accepted change becomes a new version."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.db import transaction

from apps.chats.models import Chat, Message
from apps.core.errors import Conflict
from apps.domain.diff import diff_is_empty, dsl_diff
from apps.domain.merge import empty_dsl, merge_update, validate_update
from apps.domain.models import DomainModelVersion
from apps.domain.readiness import next_phase, readiness_score
from apps.domain.schema import validate_dsl
from apps.domain.selectors import version_payload

Author = Literal["model", "person"]


@dataclass
class AppliedUpdate:
    payload: dict[str, Any]  # the dsl.update payload of the resulting version
    version: int
    diff: dict[str, Any]
    phase_changed: str | None  # the new phase when it changed (the engine emits dsl.phase)


def _store(*, chat: Chat, build: Any, source_message: Message | None, author: Author,
           base_version: int | None = None) -> AppliedUpdate:
    """Lock the chat, read the latest version, let ``build`` compute the next model, store it.

    ``build(current_dsl) -> (new_dsl, requested_phase, confidence | None)``. The row lock
    on the chat serialises concurrent writers, so two updates never both become version n.
    """
    with transaction.atomic():
        Chat.objects.select_for_update().filter(pk=chat.pk).first()
        latest = DomainModelVersion.objects.filter(chat=chat).order_by("-version").first()
        latest_number = latest.version if latest is not None else 0
        if base_version is not None and base_version != latest_number:
            raise Conflict(f"The domain model is at version {latest_number}, not {base_version}: "
                           f"reload it and apply your edit again.", extra={"version": latest_number})
        current = latest.dsl if latest is not None else empty_dsl()
        new_dsl, requested, confidence = build(current)
        if confidence is None:
            confidence = latest.confidence if latest is not None else 0.0
        diff = dsl_diff(current, new_dsl)
        readiness = readiness_score(new_dsl)
        previous_phase = latest.phase if latest is not None else None
        phase = next_phase(previous_phase, entity_count=len(new_dsl["entities"]), readiness=readiness,
                           confidence=confidence, changed=not diff_is_empty(diff), requested=requested)
        if latest is not None and diff_is_empty(diff) and phase == latest.phase \
                and confidence == latest.confidence:
            return AppliedUpdate(version_payload(latest), latest.version, diff, None)
        version = DomainModelVersion.objects.create(
            chat=chat,
            version=latest_number + 1,
            dsl=new_dsl,
            phase=phase,
            readiness=readiness,
            confidence=confidence,
            diff=diff,
            source_message=source_message,
            author=author,
        )
    changed = phase if phase != (previous_phase or "clarifying") or latest is None else None
    return AppliedUpdate(version_payload(version), version.version, diff, changed)


def domain_model_apply_update(*, chat: Chat, arguments: dict[str, Any], source_message: Message | None = None,
                              author: Author = "model") -> AppliedUpdate:
    """Apply the ``update_domain_model`` tool's arguments as a new version.

    Args:
        chat: the chat whose model changes (already scoped to the caller).
        arguments: the parsed tool arguments (see ``apps.domain.merge`` for the semantics).
        source_message: the assistant message that made the call, if any.
        author: ``model`` or ``person``.
    Returns:
        AppliedUpdate; when nothing changed, the current version (no new one is stored).
    Raises:
        DomainValidationError: the update is invalid; the stored model is untouched.
    """
    update = validate_update(arguments)

    def build(current: dict[str, Any]) -> tuple[dict[str, Any], str | None, float | None]:
        return merge_update(current, update), update.get("phase"), update.get("confidence")

    return _store(chat=chat, build=build, source_message=source_message, author=author)


def domain_model_replace(*, chat: Chat, dsl: dict[str, Any], author: Author = "person",
                         source_message: Message | None = None, base_version: int | None = None
                         ) -> AppliedUpdate:
    """Replace the whole model (REST ``PUT``), validated like any update.

    Args:
        dsl: a whole document ``{entities, relationships, phase?, confidence?}``.
        base_version: when given, the version the edit was made on; another one is a conflict.
    Raises:
        DomainValidationError: the document is invalid; the stored model is untouched.
        Conflict: ``base_version`` is not the current version.
    """
    document = validate_dsl(dsl)
    new_dsl = {"entities": document["entities"], "relationships": document["relationships"]}

    def build(current: dict[str, Any]) -> tuple[dict[str, Any], str | None, float | None]:
        return new_dsl, document.get("phase"), document.get("confidence")

    return _store(chat=chat, build=build, source_message=source_message, author=author,
                  base_version=base_version)
