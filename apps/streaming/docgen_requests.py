"""Seed 002/003 request bodies, validated the way their FastAPI server does.

Every problem becomes one entry of FastAPI's 422 body, ``{"detail": [{"loc": ["body", field,
…], "msg", "type"}]}`` (pydantic v2 error types), collected in one pass so a client sees all of
them at once. Nothing here touches the database.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.core.errors import ApplicationError, ValidationFailed
from apps.knowledge.doc_types import UNSORTED, get_doc_type, valid_names
from apps.streaming.http import check_json_strings

HISTORY_ROLES = ("user", "assistant", "system")
MAX_USER_NAME = 100
MAX_METADATA_CHARS = 64_000
MAX_CONTEXT_CHARS = 2_000_000
DEFAULT_USER_NAME = "Developer"

Loc = list[str | int]


class RequestInvalid(ApplicationError):
    """A body that failed validation; ``errors`` are FastAPI's ``detail`` entries."""

    status = 422
    code = "validation_error"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("Request validation failed.", extra={"detail": errors})
        self.errors = errors


def json_invalid(exc: Exception, body: bytes) -> RequestInvalid:
    """Malformed JSON, as FastAPI reports it: the position of the fault in the body."""
    position = getattr(exc, "pos", 0)
    return RequestInvalid([{"type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error",
                            "ctx": {"error": getattr(exc, "msg", str(exc))}}])


def parse_json(body: bytes) -> Any:
    """The body's JSON value. Raises RequestInvalid for an empty or malformed body."""
    if not body.strip():
        raise RequestInvalid([{"type": "missing", "loc": ["body"], "msg": "Field required"}])
    try:
        value = json.loads(body.decode("utf-8"))  # RFC 8259: UTF-8 only (json.loads guesses UTF-16/32)
    except UnicodeDecodeError as exc:
        raise json_invalid(ValueError(str(exc)), body) from None
    except ValueError as exc:
        raise json_invalid(exc, body) from None
    except RecursionError:
        raise RequestInvalid([{"type": "json_invalid", "loc": ["body"], "msg": "JSON nested too deeply"}]) from None
    try:
        check_json_strings(value)
    except ValidationFailed as exc:
        loc = ["body", *str(exc.extra.get("field", "body")).split(".")[1:]]
        raise RequestInvalid([{"type": "value_error", "loc": loc, "msg": exc.message}]) from None
    return value


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: Loc, type_: str, msg: str, **ctx: Any) -> None:
        entry: dict[str, Any] = {"type": type_, "loc": ["body", *loc], "msg": msg}
        if ctx:
            entry["ctx"] = ctx
        self.items.append(entry)

    def raise_any(self) -> None:
        if self.items:
            raise RequestInvalid(self.items)


def _string(errors: _Errors, data: dict[str, Any], name: str, *, required: bool, max_length: int | None = None,
            loc: Loc | None = None) -> str | None:
    where = loc or [name]
    value = data.get(name)
    if value is None:
        if required:
            errors.add(where, "missing", "Field required")
        return None
    if not isinstance(value, str):
        errors.add(where, "string_type", "Input should be a valid string")
        return None
    if max_length is not None and len(value) > max_length:
        errors.add(where, "string_too_long", f"String should have at most {max_length} characters",
                   max_length=max_length)
        return None
    return value


def _message(errors: _Errors, data: dict[str, Any], name: str = "message") -> str | None:
    value = _string(errors, data, name, required=True, max_length=settings.CHAT_MAX_MESSAGE_LENGTH)
    if value is not None and not value.strip():
        errors.add([name], "string_too_short", "String should have at least 1 character", min_length=1)
        return None
    return value


def _uuid(errors: _Errors, data: dict[str, Any], name: str) -> uuid.UUID | None:
    value = data.get(name)
    if value is None:
        errors.add([name], "missing", "Field required")
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return uuid.UUID(value)
    except ValueError:
        errors.add([name], "uuid_parsing", "Input should be a valid UUID")
        return None


def _doc_type(errors: _Errors, data: dict[str, Any], *, required: bool) -> str | None:
    if data.get("doc_type") is None and not required:
        return UNSORTED
    value = _string(errors, data, "doc_type", required=required)
    if value is None:
        return None
    try:
        return get_doc_type(value).name
    except ApplicationError:
        names = valid_names()
        errors.add(["doc_type"], "enum", f"Input should be {', '.join(repr(n) for n in names)}",
                   expected=", ".join(names))
        return None


def _history(errors: _Errors, data: dict[str, Any], name: str) -> list[tuple[str, str]] | None:
    """``None`` when the field is absent (the conversation's stored turns are used)."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        errors.add([name], "list_type", "Input should be a valid list")
        return None
    limit = settings.CHAT_MAX_HISTORY_MESSAGES
    if len(value) > limit:
        errors.add([name], "too_long", f"List should have at most {limit} items after validation, not {len(value)}",
                   max_length=limit, actual_length=len(value))
        return None
    turns: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors.add([name, index], "model_type", "Input should be a valid dictionary or object")
            continue
        role = item.get("role")
        if role is None:
            errors.add([name, index, "role"], "missing", "Field required")
        elif role not in HISTORY_ROLES:
            errors.add([name, index, "role"], "literal_error",
                       f"Input should be {', '.join(repr(r) for r in HISTORY_ROLES)}",
                       expected=", ".join(HISTORY_ROLES))
        content = _string(errors, item, "content", required=True, max_length=settings.CHAT_MAX_MESSAGE_LENGTH,
                          loc=[name, index, "content"])
        if role in HISTORY_ROLES and content is not None:
            turns.append((str(role), content))
    return turns


def _object(errors: _Errors, data: dict[str, Any], name: str, *, max_chars: int) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add([name], "dict_type", "Input should be a valid dictionary")
        return None
    if len(json.dumps(value, ensure_ascii=False)) > max_chars:
        errors.add([name], "too_long", f"{name} should be at most {max_chars} characters of JSON",
                   max_length=max_chars)
        return None
    return value


def _documents(errors: _Errors, data: dict[str, Any], name: str, *, strings_only: bool) -> dict[str, str] | None:
    """``project_context``: path → content. The legacy endpoint's "arbitrary metadata" values
    that are not strings are kept as their JSON text."""
    value = _object(errors, data, name, max_chars=MAX_CONTEXT_CHARS)
    if value is None:
        return None
    documents: dict[str, str] = {}
    for key, content in value.items():
        if isinstance(content, str):
            documents[key] = content
        elif strings_only:
            errors.add([name, key], "string_type", "Input should be a valid string")
        else:
            documents[key] = json.dumps(content, ensure_ascii=False)
    return documents


def _require_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RequestInvalid([{"type": "model_attributes_type", "loc": ["body"],
                               "msg": "Input should be a valid dictionary or object to extract fields from"}])
    return data


@dataclass
class StreamRequest:
    """``POST /api/v1/chat/stream``."""

    conversation_id: uuid.UUID
    project_id: uuid.UUID
    message: str
    user_name: str = DEFAULT_USER_NAME
    doc_type: str = UNSORTED
    history: list[tuple[str, str]] | None = None
    project_context: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


def parse_stream_request(data: Any) -> StreamRequest:
    """Raises RequestInvalid with every problem found."""
    body = _require_object(data)
    errors = _Errors()
    conversation_id = _uuid(errors, body, "conversation_id")
    project_id = _uuid(errors, body, "project_id")
    message = _message(errors, body)
    user_name = _string(errors, body, "user_name", required=False, max_length=MAX_USER_NAME)
    doc_type = _doc_type(errors, body, required=False)
    history = _history(errors, body, "history")
    context = _documents(errors, body, "project_context", strings_only=True)
    metadata = _object(errors, body, "metadata", max_chars=MAX_METADATA_CHARS)
    errors.raise_any()
    assert conversation_id is not None and project_id is not None and message is not None
    return StreamRequest(
        conversation_id=conversation_id,
        project_id=project_id,
        message=message,
        user_name=(user_name or "").strip() or DEFAULT_USER_NAME,
        doc_type=doc_type or UNSORTED,
        history=history,
        project_context=context or {},
        metadata=metadata or {},
    )


@dataclass
class GenerateRequest:
    """Legacy ``POST /api/v1/chat/generate``."""

    message: str
    doc_type: str
    project_context: dict[str, str] = field(default_factory=dict)
    chat_history: list[tuple[str, str]] = field(default_factory=list)


def parse_generate_request(data: Any) -> GenerateRequest:
    """Raises RequestInvalid with every problem found."""
    body = _require_object(data)
    errors = _Errors()
    message = _message(errors, body)
    doc_type = _doc_type(errors, body, required=True)
    context = _documents(errors, body, "project_context", strings_only=False)
    history = _history(errors, body, "chat_history")
    errors.raise_any()
    assert message is not None and doc_type is not None
    return GenerateRequest(message=message, doc_type=doc_type, project_context=context or {},
                           chat_history=history or [])
