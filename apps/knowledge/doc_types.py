"""Typed document templates (seed 002/003 ``doc_type``), each with a template and a worked example.

The texts live as files in ``doc_templates/<NAME>/template.md`` and ``example.md`` and are
written for Blueprint itself. ``UNSORTED`` is a valid type and means "no template".
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from apps.core.errors import ValidationFailed

UNSORTED = "UNSORTED"
TEMPLATES_DIR = Path(__file__).resolve().parent / "doc_templates"


@dataclass(frozen=True)
class DocType:
    name: str
    title: str
    description: str
    template: str
    example: str


_CATALOGUE: tuple[tuple[str, str, str], ...] = (
    ("PROJECT_MANIFESTO", "Project manifesto",
     "Why the project exists: the problem, who it serves, goals and non-goals, guiding "
     "principles and how success is measured."),
    ("ARCHITECTURE_SPEC", "Architecture specification",
     "The system's structure: context, components and their responsibilities, data flow, "
     "storage, quality attributes and the risks that shape them."),
    ("DOMAIN_LANGUAGE", "Domain language",
     "The ubiquitous language: every domain term with one definition, the entities it maps "
     "to, their relationships and the invariants the code must keep."),
    ("TECH_STACK", "Technology stack",
     "Each layer's chosen technology with the reason, the alternatives considered and the "
     "versions pinned."),
    ("ADR", "Architecture decision record",
     "One decision: its context, the options weighed, the decision and its consequences."),
    ("API_SPEC", "API specification",
     "The interface contract: authentication, resources and endpoints, request and response "
     "shapes, errors, limits and versioning."),
    ("DATA_MODEL", "Data model",
     "Entities, their fields and types, keys and constraints, relationships, an ER diagram "
     "and the lifecycle of the data."),
    ("SECURITY_REVIEW", "Security review",
     "Assets, trust boundaries, threats (STRIDE), the mitigations in place and the open "
     "findings with their severity."),
)
_NAMES = tuple(name for name, _, _ in _CATALOGUE)


def _read(name: str, filename: str) -> str:
    return (TEMPLATES_DIR / name / filename).read_text(encoding="utf-8")


@cache
def _load(name: str) -> DocType:
    if name == UNSORTED:
        return DocType(UNSORTED, "Unsorted", "Free-form text: no template is applied.", "", "")
    for entry_name, title, description in _CATALOGUE:
        if entry_name == name:
            return DocType(name, title, description, _read(name, "template.md"), _read(name, "example.md"))
    raise KeyError(name)


def list_doc_types() -> list[DocType]:
    """Every doc type with a template, in catalogue order, then ``UNSORTED``."""
    return [_load(name) for name in (*_NAMES, UNSORTED)]


def valid_names() -> list[str]:
    return [*_NAMES, UNSORTED]


def get_doc_type(name: str) -> DocType:
    """Look a doc type up by name (case and ``-``/``_`` insensitive).

    Raises:
        ValidationFailed: unknown name; field ``docType``, listing the valid names.
    """
    key = (name or "").strip().upper().replace("-", "_").replace(" ", "_") if isinstance(name, str) else ""
    if key in valid_names():
        return _load(key)
    raise ValidationFailed(
        f"Unknown docType {name!r}. Valid doc types: {', '.join(valid_names())}.",
        field="docType",
        extra={"validDocTypes": valid_names()},
    )


def doc_type_for_path(path: str) -> str:
    """The doc type a path implies: ``ARCHITECTURE_SPEC.md`` → ARCHITECTURE_SPEC, ``docs/adr/…`` → ADR."""
    stem = posixpath.splitext(posixpath.basename(path))[0].upper().replace("-", "_")
    if stem in _NAMES:
        return stem
    folders = {part.lower() for part in path.split("/")[:-1]}
    if folders & {"adr", "adrs", "decisions"}:
        return "ADR"
    return UNSORTED
