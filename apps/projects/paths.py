"""The one rule for a project file's path, shared by REST, build-mode tools and direct-save.

Project files live in Postgres, not on a disk, so a path is only a key; the rule still refuses
everything that would mean "outside the project" or be ambiguous on a real file system, so a
tree exported to disk stays inside its folder. There are no links: a stored file is always
plain content (nothing can point elsewhere), and the services refuse a path that would make a
file also a folder (``src`` and ``src/app.ts``), the only way one path could stand for another.
"""
from __future__ import annotations

import re
import unicodedata

from apps.core.errors import ValidationFailed

MAX_PATH_CHARS = 500
MAX_SEGMENT_CHARS = 255

# C0/C1 controls and DEL, backslash (a separator on Windows) and the characters Windows
# refuses in names; a drive letter or a URL-like scheme (``c:``, ``file:``) would be absolute.
_FORBIDDEN_CHAR = re.compile(r'[\x00-\x1f\x7f-\x9f\\<>"|?*]')
_DRIVE_OR_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Characters that render as nothing or reorder text: a path that looks like another one.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cs", "Co", "Zl", "Zp"})


class InvalidPath(ValidationFailed):
    """A path that is not a plain relative file path inside the project."""

    code = "invalid_path"

    def __init__(self, message: str, *, field: str = "path") -> None:
        super().__init__(message, field=field)


def project_path_normalise(path: object, *, field: str = "path") -> str:
    """The canonical form of a project-relative file path, or an error saying what is wrong.

    ``./`` segments are dropped (``./src/a.ts`` is ``src/a.ts``); everything else that
    could escape or alias is refused rather than repaired.

    Raises:
        InvalidPath: not a string, empty, too long, absolute, with ``..``, a backslash, a
            control or invisible character, a drive letter, an empty segment or a trailing ``/``.
    """
    if not isinstance(path, str):
        raise InvalidPath(f"{field} must be a string", field=field)
    raw = path.strip()
    if not raw:
        raise InvalidPath(f"{field} must not be empty", field=field)
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    if len(raw) > MAX_PATH_CHARS:
        raise InvalidPath(f"{field} is longer than {MAX_PATH_CHARS} characters", field=field)
    bad = _FORBIDDEN_CHAR.search(raw)
    if bad is not None:
        raise InvalidPath(f"{field} {shown!r} contains the forbidden character {bad.group()!r}", field=field)
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in raw):
        raise InvalidPath(f"{field} {shown!r} contains an invisible or formatting character", field=field)
    if raw.startswith(("/", "~")) or _DRIVE_OR_SCHEME.match(raw):
        raise InvalidPath(f"{field} {shown!r} is absolute; use a path relative to the project", field=field)
    segments = raw.split("/")
    if ".." in segments:
        raise InvalidPath(f"{field} {shown!r} leaves the project ('..' is not allowed)", field=field)
    if raw.endswith("/"):
        raise InvalidPath(f"{field} {shown!r} names a folder, not a file", field=field)
    kept: list[str] = []
    for segment in segments:
        if segment == "":
            raise InvalidPath(f"{field} {shown!r} has an empty segment ('//')", field=field)
        if segment == ".":
            continue
        if len(segment) > MAX_SEGMENT_CHARS:
            raise InvalidPath(f"{field} has a segment longer than {MAX_SEGMENT_CHARS} characters", field=field)
        if segment != segment.strip() or segment.endswith("."):
            raise InvalidPath(f"{field} {shown!r} has a segment ending in a space or a dot", field=field)
        kept.append(segment)
    if not kept:
        raise InvalidPath(f"{field} {shown!r} is not a file inside the project", field=field)
    return unicodedata.normalize("NFC", "/".join(kept))


def project_path_parents(path: str) -> list[str]:
    """The folders above a normalised path, nearest last: ``a/b/c`` → ``["a", "a/b"]``."""
    segments = path.split("/")
    return ["/".join(segments[:i]) for i in range(1, len(segments))]
