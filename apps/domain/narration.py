"""Plain-language descriptions of a domain model and of what an update changed, plus
clarifying questions driven by the readiness rubric. Used by the offline provider."""
from __future__ import annotations

from typing import Any

from apps.domain.readiness import READY_READINESS, readiness_report

_VERBS = {"many-to-one": "belongs to", "one-to-many": "has many", "one-to-one": "has one",
          "many-to-many": "is linked to many"}


def describe_entity(name: str, entity: dict[str, Any], limit: int = 6) -> str:
    fields = [f for f in entity.get("fields", {}) if f not in ("id", "createdAt") and not f.endswith("Id")]
    shown = ", ".join(fields[:limit]) + (", …" if len(fields) > limit else "")
    return f"**{name}** ({shown})" if shown else f"**{name}**"


def describe_relationship(rel: dict[str, Any]) -> str:
    name = f" as {rel['name']}" if rel.get("name") else ""
    article = "an " if rel["to"][:1] in "AEIOU" else "a "
    if rel["type"] in ("many-to-many", "one-to-many"):
        article = ""
    return f"each {rel['from']} {_VERBS[rel['type']]} {article}{rel['to']}{name}"


def describe_changes(arguments: dict[str, Any], model: dict[str, Any]) -> list[str]:
    """Bullet lines for what an update call added or changed."""
    lines: list[str] = []
    entities = model.get("entities", {})
    for note in arguments.get("rename", {}).get("entities", []):
        lines.append(f"renamed {note['from']} to {note['to']}")
    for name in arguments.get("remove", {}).get("entities", []):
        lines.append(f"removed {name}")
    for item in arguments.get("remove", {}).get("fields", []):
        lines.append(f"removed {item['entity']}.{item['field']}")
    for name, entity in arguments.get("entities", {}).items():
        if name in entities:
            lines.append(describe_entity(name, entities[name]))
        else:
            lines.append(f"{name}: " + ", ".join(entity.get("fields", {})))
    for rel in arguments.get("relationships", []):
        lines.append(describe_relationship(rel))
    return lines


def clarifying_questions(model: dict[str, Any], limit: int = 3) -> list[str]:
    """Questions that would raise readiness first, then the usual domain questions."""
    entities: dict[str, Any] = model.get("entities", {})
    relationships: list[dict[str, Any]] = model.get("relationships", [])
    if not entities:
        return ["What do you want to build, and what are the main things it has to keep track of?",
                "Who will use it, and what is the first thing they do?"]
    questions: list[str] = []
    names = list(entities)
    for criterion in readiness_report(model):
        for gap in criterion.gaps:
            subject = gap.split(" ", 1)[0].split(".")[0]
            others = ", ".join(n for n in names if n != subject)[:80]
            if criterion.name == "connected":
                questions.append(f"How does {subject} relate to the rest ({others})?")
            elif criterion.name == "keys":
                questions.append(f"What identifies a {subject} — shall I give it a generated id?")
            elif criterion.name == "enums":
                questions.append(f"Which values can {gap.split(' ')[0]} take?")
            elif criterion.name == "attributes":
                questions.append(f"Besides what is there, what should a {subject} record?")
    for name, entity in entities.items():
        for field, definition in entity.get("fields", {}).items():
            if definition.get("type") == "enum" and len(definition.get("values", [])) >= 2:
                values = ", ".join(definition["values"])
                questions.append(f"Are these the right {field} values for a {name}: {values}?")
                break
        if len(questions) >= limit + 1:
            break
    for rel in relationships:
        if rel["type"] == "many-to-one":
            questions.append(f"Can a {rel['from']} belong to more than one {rel['to']}, or exactly one?")
            break
    if not any(n in entities for n in ("User", "Customer", "Member", "Employee", "Guest", "Patient", "Student",
                                          "Author", "Candidate", "Attendee", "Driver")):
        questions.append("Who uses the system — do people need accounts (a User entity)?")
    unique: list[str] = []
    for question in questions:
        if question not in unique:
            unique.append(question)
    return unique[:limit]


def readiness_sentence(payload: dict[str, Any]) -> str:
    readiness = payload.get("readiness", 0)
    line = (f"The domain model is at version {payload.get('version')}, phase {payload.get('phase')}, "
            f"readiness {readiness}/100 (computed by Blueprint's rubric).")
    if readiness >= READY_READINESS:
        line += " Structurally it is complete: tell me what is missing or wrong, or that it is ready."
    return line
