"""Readiness (the server's rubric, never the model's word) and the phase machine.

Readiness rubric, 100 points; a *share* is the fraction of items that pass:

| criterion | points | passes when |
|---|---|---|
| entities | 10 | 5 for one entity, 10 for two or more |
| keys | 20 | share of entities with a key: an ``id`` field, or a required unique field |
| attributes | 15 | share of entities with at least two fields besides keys and references |
| typed | 10 | share of fields with a specific type (``json`` is the catch-all) |
| enums | 10 | share of enum fields with at least two values (full when there are none) |
| references | 15 | share of reference fields (``authorId``, ``post_id``) backed by a relationship |
| connected | 15 | share of entities in at least one relationship (full for a single entity) |
| relationships | 5 | at least one relationship once there are two entities |

Phases: clarifying → proposing → refining → ready (see ``next_phase``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from apps.domain.schema import snake_case

READY_READINESS: Final = 85
READY_CONFIDENCE: Final = 0.75
_REFERENCE_RE = re.compile(r"^(?P<target>[A-Za-z][A-Za-z0-9]*?)(?:Id|_id|ID)$")


@dataclass
class Criterion:
    name: str
    points: int
    score: float
    gaps: list[str] = field(default_factory=list)


def _share(passed: int, total: int, empty: float) -> float:
    return passed / total if total else empty


def reference_target(field_name: str) -> str | None:
    """``authorId`` → ``author``; ``id`` and non-reference names → None."""
    match = _REFERENCE_RE.match(field_name)
    return match.group("target") if match else None


def entity_has_key(entity: dict[str, Any]) -> bool:
    fields = entity.get("fields", {})
    return "id" in fields or any(f["required"] and f["unique"] for f in fields.values())


def _reference_resolved(entity_name: str, target: str, relationships: list[dict[str, Any]]) -> bool:
    wanted = snake_case(target)
    for rel in relationships:
        if entity_name not in (rel["from"], rel["to"]):
            continue
        other = rel["to"] if rel["from"] == entity_name else rel["from"]
        if snake_case(rel.get("name") or "") == wanted or snake_case(other) == wanted:
            return True
    return False


def readiness_report(dsl: dict[str, Any]) -> list[Criterion]:
    """Each rubric criterion with its score and what keeps it from full marks."""
    entities: dict[str, Any] = dsl.get("entities", {})
    relationships: list[dict[str, Any]] = dsl.get("relationships", [])
    count = len(entities)
    connected = {rel[end] for rel in relationships for end in ("from", "to")}
    report = [Criterion("entities", 10, 0.0 if count == 0 else (0.5 if count == 1 else 1.0),
                        [] if count >= 2 else ["fewer than two entities"])]
    keys, attributes, typed, enums, refs, connect = (Criterion(n, p, 0.0) for n, p in (
        ("keys", 20), ("attributes", 15), ("typed", 10), ("enums", 10), ("references", 15),
        ("connected", 15)))
    n_keys = n_attr = n_fields = n_typed = n_enums = n_enum_ok = n_refs = n_ref_ok = 0
    for name, entity in entities.items():
        fields = entity.get("fields", {})
        if entity_has_key(entity):
            n_keys += 1
        else:
            keys.gaps.append(f"{name} has no key")
        descriptive = 0
        for fname, definition in fields.items():
            n_fields += 1
            if definition["type"] != "json":
                n_typed += 1
            else:
                typed.gaps.append(f"{name}.{fname} is untyped json")
            if definition["type"] == "enum":
                n_enums += 1
                if len(definition.get("values", [])) >= 2:
                    n_enum_ok += 1
                else:
                    enums.gaps.append(f"{name}.{fname} needs its values")
            target = reference_target(fname)
            if target is not None:
                n_refs += 1
                if _reference_resolved(name, target, relationships):
                    n_ref_ok += 1
                else:
                    refs.gaps.append(f"{name}.{fname} is not backed by a relationship")
            elif fname != "id":
                descriptive += 1
        if descriptive >= 2:
            n_attr += 1
        else:
            attributes.gaps.append(f"{name} needs more attributes")
        if count > 1 and name not in connected:
            connect.gaps.append(f"{name} is not related to any other entity")
    keys.score = _share(n_keys, count, 0.0)
    attributes.score = _share(n_attr, count, 0.0)
    typed.score = _share(n_typed, n_fields, 1.0 if count else 0.0)
    enums.score = _share(n_enum_ok, n_enums, 1.0 if count else 0.0)
    refs.score = _share(n_ref_ok, n_refs, 1.0 if count else 0.0)
    connect.score = 0.0 if count == 0 else (1.0 if count == 1 else (count - len(connect.gaps)) / count)
    has_rels = count == 1 or (count > 1 and bool(relationships))
    rels = Criterion("relationships", 5, 1.0 if has_rels else 0.0,
                     [] if has_rels or count == 0 else ["no relationships yet"])
    report += [keys, attributes, typed, enums, refs, connect, rels]
    return report


def readiness_score(dsl: dict[str, Any]) -> int:
    """0–100 from the rubric above."""
    return round(sum(c.points * c.score for c in readiness_report(dsl)))


def readiness_gaps(dsl: dict[str, Any], limit: int = 5) -> list[str]:
    return [gap for c in readiness_report(dsl) for gap in c.gaps][:limit]


def next_phase(previous: str | None, *, entity_count: int, readiness: int, confidence: float,
               changed: bool, requested: str | None = None) -> str:
    """The phase after an accepted update.

    * no entities → ``clarifying``; the model may also ask to go back to ``clarifying``;
    * ``clarifying`` → ``proposing`` when the first entities arrive: a first proposal
      always goes back to the person, never straight to ready;
    * ``proposing`` → ``refining`` on the next update that changes something, or straight
      to ``ready`` when that update meets the bar (readiness ≥ 85, confidence ≥ 0.75);
    * ``refining`` → ``ready`` when the bar is met;
    * ``ready`` → ``refining`` when either falls below its bar;
    * a requested ``proposing``/``refining`` is honoured when there are entities, a
      requested ``ready`` only when the bar is met.
    """
    if entity_count == 0 or requested == "clarifying":
        return "clarifying"
    gate = readiness >= READY_READINESS and confidence >= READY_CONFIDENCE
    current = previous or "clarifying"
    if current == "clarifying":
        return requested if requested in ("proposing", "refining") else "proposing"
    if requested == "ready":
        return "ready" if gate else current
    if requested in ("proposing", "refining"):
        return requested
    if current == "proposing" and not changed:
        return "proposing"
    return "ready" if gate else "refining"
