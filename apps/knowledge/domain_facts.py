"""A lenient reading of a domain-model payload into plain facts for the offline writer.

Accepts the ``dsl.update`` payload (``{domainModel: {entities, relationships}, phase,
readiness, confidence}``) or the inner ``{entities, relationships}``; entities and fields may
be mappings by name or lists of objects with a ``name``. Names are cleaned so they can sit in
a Markdown table or a Mermaid diagram.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_UNSAFE_CELL = re.compile(r"[\r\n|`<>]")
_IDENT = re.compile(r"[^A-Za-z0-9_]")
MAX_NAME = 80


def clean_name(value: object) -> str:
    text = _UNSAFE_CELL.sub(" ", str(value)).strip()
    return re.sub(r"\s+", " ", text)[:MAX_NAME]


def identifier(value: str) -> str:
    ident = _IDENT.sub("_", value).strip("_") or "Entity"
    return ident if not ident[0].isdigit() else f"E_{ident}"


@dataclass(frozen=True)
class FieldFact:
    name: str
    type: str = "string"
    required: bool = False
    unique: bool = False
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntityFact:
    name: str
    fields: tuple[FieldFact, ...] = ()


@dataclass(frozen=True)
class RelationFact:
    source: str
    target: str
    kind: str
    name: str


@dataclass(frozen=True)
class ModelFacts:
    entities: tuple[EntityFact, ...] = ()
    relationships: tuple[RelationFact, ...] = ()
    phase: str = ""
    readiness: int | None = None
    confidence: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def entity(self, name: str) -> EntityFact | None:
        return next((entity for entity in self.entities if entity.name == name), None)


def _named_items(value: object) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        return [(clean_name(k), v if isinstance(v, dict) else {}) for k, v in value.items() if clean_name(k)]
    if isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, dict) and clean_name(item.get("name", "")):
                items.append((clean_name(item["name"]), item))
        return items
    return []


def _field(name: str, spec: dict[str, Any]) -> FieldFact:
    values = spec.get("values") or spec.get("enum") or ()
    return FieldFact(
        name=name,
        type=clean_name(spec.get("type") or "string") or "string",
        required=bool(spec.get("required", False)),
        unique=bool(spec.get("unique", False)),
        values=tuple(clean_name(v) for v in values if clean_name(v)) if isinstance(values, list) else (),
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def model_facts(payload: dict[str, Any] | None) -> ModelFacts:
    if not isinstance(payload, dict):
        return ModelFacts()
    inner = payload.get("domainModel")
    model: dict[str, Any] = inner if isinstance(inner, dict) else payload
    entities = tuple(
        EntityFact(name, tuple(_field(f_name, f_spec) for f_name, f_spec in _named_items(spec.get("fields"))))
        for name, spec in _named_items(model.get("entities"))
    )
    relationships = []
    for item in model.get("relationships") or []:
        if not isinstance(item, dict):
            continue
        source, target = clean_name(item.get("from", "")), clean_name(item.get("to", ""))
        if source and target:
            relationships.append(RelationFact(
                source, target, clean_name(item.get("type") or "one-to-many"), clean_name(item.get("name") or "")
            ))
    readiness = _number(payload.get("readiness", model.get("readiness")))
    confidence = _number(payload.get("confidence", model.get("confidence")))
    return ModelFacts(
        entities=entities,
        relationships=tuple(relationships),
        phase=clean_name(payload.get("phase") or model.get("phase") or ""),
        readiness=int(max(0, min(100, readiness))) if readiness is not None else None,
        confidence=max(0.0, min(1.0, confidence)) if confidence is not None else None,
    )
