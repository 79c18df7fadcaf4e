"""What the HTML and JSX patchers share: edits as byte spans, refusals, parse checks, CSS names."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_VALUE_CHARS = 100_000
_CSS_NAME = re.compile(r"^(--[A-Za-z0-9_-]+|-?[A-Za-z][A-Za-z0-9-]*)$")
_CSS_VALUE_FORBIDDEN = re.compile(r"[;{}\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Edit:
    """Replace bytes ``start:end`` of the file with ``text``; nothing else changes."""

    start: int
    end: int
    text: bytes


class PatchRefused(ValueError):
    """The element cannot take this patch; the message says why."""

    def __init__(self, message: str, *, code: str = "patch_refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotParsable(ValueError):
    """The file has syntax errors (tree-sitter error or missing nodes)."""


def first_error(node: Any) -> Any | None:
    """The first ERROR or MISSING node under ``node`` in document order, if any."""
    if not node.has_error:
        return None
    if node.is_error or node.is_missing:
        return node
    for child in node.children:
        found = first_error(child)
        if found is not None:
            return found
    return node


def raise_if_broken(root: Any, what: str) -> None:
    broken = first_error(root)
    if broken is not None:
        line, column = broken.start_point
        kind = "a missing " + broken.type if broken.is_missing else "a syntax error"
        raise NotParsable(f"the {what} does not parse: {kind} at line {line + 1}, column {column + 1}")


def text_of(source: bytes, node: Any) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def keep_outer_whitespace(old: str, new: str) -> str:
    """``new`` wrapped in the whitespace ``old`` started and ended with (its layout)."""
    if not old.strip():
        return old + new if "\n" not in old else old + new + old[old.rfind("\n"):]
    lead = old[: len(old) - len(old.lstrip())]
    trail = old[len(old.rstrip()):]
    return lead + new + trail


def check_value(value: object, *, what: str = "value") -> str:
    if not isinstance(value, str):
        raise PatchRefused(f"{what} must be a string", code="invalid_value")
    if len(value) > MAX_VALUE_CHARS:
        raise PatchRefused(f"{what} is longer than {MAX_VALUE_CHARS} characters", code="invalid_value")
    if "\x00" in value:
        raise PatchRefused(f"{what} contains a NUL character", code="invalid_value")
    return value


def css_property(prop: str) -> str:
    """``backgroundColor`` or ``background-color`` → ``background-color`` (custom ``--x`` kept)."""
    if prop.startswith("--"):
        name = prop
    else:
        name = re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "-" + m.group(1).lower(), prop).lower()
    if not _CSS_NAME.match(name):
        raise PatchRefused(f"{prop!r} is not a CSS property name", code="invalid_property")
    return name


def js_style_key(prop: str) -> str:
    """``background-color`` or ``backgroundColor`` → ``backgroundColor`` (custom ``--x`` kept)."""
    name = css_property(prop)
    if name.startswith("--"):
        return name
    head, *rest = name.lstrip("-").split("-")
    key = head + "".join(part[:1].upper() + part[1:] for part in rest)
    return key[:1].upper() + key[1:] if name.startswith("-") and not name.startswith("-ms-") else key


def check_style_value(value: str) -> str:
    """A declaration value must not end the declaration or the block it sits in."""
    bad = _CSS_VALUE_FORBIDDEN.search(value)
    if bad is not None:
        raise PatchRefused(f"a style value may not contain {bad.group()!r}", code="invalid_value")
    return value.strip()


def edit_declarations(style: str, prop: str, value: str) -> str:
    """An inline style text with ``prop`` set to ``value``; other declarations keep their text."""
    segments = style.split(";")
    for index, segment in enumerate(segments):
        name, colon, old = segment.partition(":")
        if colon and name.strip().lower() == prop:
            lead = old[: len(old) - len(old.lstrip())] or " "
            trail = old[len(old.rstrip()):]
            segments[index] = f"{name}:{lead}{value}{trail}"
            return ";".join(segments)
    body = style.rstrip()
    ends_with_semicolon = body.endswith(";")
    if body and not ends_with_semicolon:
        body += ";"
    added = f"{body}{' ' if body else ''}{prop}: {value}{';' if ends_with_semicolon else ''}"
    return added + style[len(style.rstrip()):]
