"""Limits every dialect applies before any provider call (SPEC §5.2)."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings

from apps.chats import attachments as attachment_limits
from apps.chats.attachments import AttachmentUpload, attachment_uploads_decode
from apps.core.errors import ValidationFailed

HISTORY_ROLES = ("user", "assistant", "system")
MAX_USER_NAME = 100
MAX_ATTACHMENTS = attachment_limits.MAX_ATTACHMENTS
MAX_ATTACHMENT_BYTES = attachment_limits.MAX_ATTACHMENT_BYTES
MAX_CLIENT_MESSAGE_ID = 100


def require_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.", field="body")
    return data


def message_text(value: Any, *, field: str = "text", required: bool = True) -> str:
    if value is None:
        if required:
            raise ValidationFailed(f"{field} is required.", field=field)
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string.", field=field)
    if required and not value.strip():
        raise ValidationFailed(f"{field} must not be empty.", field=field)
    limit = settings.CHAT_MAX_MESSAGE_LENGTH
    if len(value) > limit:
        raise ValidationFailed(f"{field} is {len(value)} characters; the maximum is {limit}.", field=field)
    return value


def temperature(value: Any, *, field: str = "temperature") -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationFailed(f"{field} must be a number between 0 and 2.", field=field)
    if not 0 <= value <= 2:
        raise ValidationFailed(f"{field} must be between 0 and 2 (got {value}).", field=field)
    return float(value)


def max_tokens(value: Any, *, limit: int, field: str = "maxTokens") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{field} must be a positive integer.", field=field)
    if not 1 <= value <= limit:
        raise ValidationFailed(f"{field} must be between 1 and {limit} for this model.", field=field)
    return value


def user_name(value: Any, *, field: str = "user_name") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string.", field=field)
    if len(value) > MAX_USER_NAME:
        raise ValidationFailed(f"{field} must be at most {MAX_USER_NAME} characters.", field=field)
    return value.strip() or None


def history(value: Any, *, field: str = "history", roles: tuple[str, ...] = HISTORY_ROLES) -> list[tuple[str, str]]:
    """A list of ``{role, content}`` turns, bounded by CHAT_MAX_HISTORY_MESSAGES."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationFailed(f"{field} must be a list.", field=field)
    limit = settings.CHAT_MAX_HISTORY_MESSAGES
    if len(value) > limit:
        raise ValidationFailed(f"{field} has {len(value)} messages; the maximum is {limit}.", field=field)
    turns: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise ValidationFailed(f"{where} must be an object with role and content.", field=where)
        role = item.get("role")
        if role not in roles:
            raise ValidationFailed(
                f"{where}.role must be one of {', '.join(roles)} (got {role!r}).", field=f"{where}.role"
            )
        content = message_text(item.get("content"), field=f"{where}.content", required=False)
        turns.append((role, content))
    return turns


def client_message_id(value: Any, *, field: str = "clientMessageId") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CLIENT_MESSAGE_ID:
        raise ValidationFailed(
            f"{field} must be a non-empty string of at most {MAX_CLIENT_MESSAGE_ID} characters.", field=field
        )
    return value.strip()


def attachments(value: Any, *, field: str = "attachments") -> list[AttachmentUpload]:
    """Decoded and checked attachments: images sniffed from their bytes (docs/attachments.md)."""
    return attachment_uploads_decode(value, field=field)


def optional_bool(value: Any, *, field: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ValidationFailed(f"{field} must be true or false.", field=field)
    return value


def string_map(value: Any, *, field: str, max_total: int = 2_000_000) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed(f"{field} must be an object.", field=field)
    total = 0
    for key, content in value.items():
        if not isinstance(content, str):
            raise ValidationFailed(f"{field}[{key!r}] must be a string.", field=f"{field}.{key}")
        total += len(key) + len(content)
    if total > max_total:
        raise ValidationFailed(f"{field} is too large (over {max_total} characters).", field=field)
    return dict(value)
