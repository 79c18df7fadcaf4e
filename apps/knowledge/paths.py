"""Document paths: one normalised, project-relative spelling, never escaping the project."""
from __future__ import annotations

import posixpath
import re

from apps.core.errors import ValidationFailed

MAX_PATH_LENGTH = 500
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_document_path(raw: str, *, field: str = "path") -> str:
    """Return the canonical form of a document path.

    ``docs\\intro.md``, ``./docs//intro.md`` and ``docs/intro.md`` are the same path.

    Raises:
        ValidationFailed: empty, absolute, containing ``..`` or control characters, or too long.
    """
    if not isinstance(raw, str):
        raise ValidationFailed("The path must be a string.", field=field)
    path = raw.strip().replace("\\", "/")
    if not path:
        raise ValidationFailed("The path must not be empty.", field=field)
    if _CONTROL.search(path):
        raise ValidationFailed("The path must not contain control characters.", field=field)
    if path.startswith("/") or path.startswith("~") or _WINDOWS_DRIVE.match(path):
        raise ValidationFailed("The path must be relative to the project.", field=field)
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise ValidationFailed("The path must not contain '..'.", field=field)
    if not parts:
        raise ValidationFailed("The path must name a file.", field=field)
    normalized = posixpath.join(*parts)
    if len(normalized) > MAX_PATH_LENGTH:
        raise ValidationFailed(f"The path must be at most {MAX_PATH_LENGTH} characters.", field=field)
    return normalized


def language_of(path: str) -> str:
    """The chunker family for a path: ``markdown``, ``code`` or ``text``."""
    suffix = posixpath.splitext(path.lower())[1]
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in CODE_SUFFIXES:
        return "code"
    return "text"


MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
CODE_SUFFIXES = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".kt",
    ".rb", ".php", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".scala", ".sql", ".sh",
    ".css", ".scss", ".html", ".vue", ".svelte",
})
TEXT_SUFFIXES = frozenset({
    ".txt", ".rst", ".adoc", ".yaml", ".yml", ".toml", ".json", ".ini", ".cfg", ".csv", "",
})
INGESTIBLE_SUFFIXES = MARKDOWN_SUFFIXES | CODE_SUFFIXES | TEXT_SUFFIXES
