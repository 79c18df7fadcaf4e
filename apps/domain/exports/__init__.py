"""Exports of a domain model: ``export_domain_model(dsl, fmt)`` → (text, content type)."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from apps.domain.exports.django_models import export_django
from apps.domain.exports.json_schema import export_json_schema, export_openapi
from apps.domain.exports.mermaid import export_mermaid
from apps.domain.exports.sql import export_sql
from apps.domain.exports.typescript import export_typescript


def _as_json(render: Callable[..., dict[str, Any]]) -> Callable[..., str]:
    def text(dsl: dict[str, Any], *, title: str) -> str:
        return json.dumps(render(dsl, title=title), indent=2, ensure_ascii=False) + "\n"
    return text


# format → (renderer, content type, file extension)
EXPORT_FORMATS: Final[dict[str, tuple[Callable[..., str], str, str]]] = {
    "jsonschema": (_as_json(export_json_schema), "application/schema+json", "schema.json"),
    "django": (export_django, "text/x-python; charset=utf-8", "py"),
    "sql": (export_sql, "application/sql; charset=utf-8", "sql"),
    "mermaid": (export_mermaid, "text/vnd.mermaid; charset=utf-8", "mmd"),
    "typescript": (export_typescript, "application/typescript; charset=utf-8", "ts"),
    "openapi": (_as_json(export_openapi), "application/json", "openapi.json"),
}


def export_domain_model(dsl: dict[str, Any], fmt: str, *, title: str = "domain model") -> tuple[str, str]:
    """Render ``dsl`` in ``fmt``; returns (text, content type). ``fmt`` must be a key of
    ``EXPORT_FORMATS`` (callers check and answer 400 otherwise)."""
    render, content_type, _ = EXPORT_FORMATS[fmt]
    return render(dsl, title=title), content_type
