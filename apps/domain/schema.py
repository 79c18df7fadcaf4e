"""The domain-model DSL as code: its vocabulary and validation.

A document is ``{"entities": {Name: {"fields": {name: FieldDef}, "description"?}},
"relationships": [{"from", "to", "type", "name"?}]}``. Validation returns the
*canonical* form (every field has ``type``, ``required`` and ``unique``; ``default``,
``values`` and ``description`` only when they mean something) and raises
``DomainValidationError`` naming the first bad path. The JSON Schema published at
``/api/schema/dsl.json`` (``apps.domain.dsl_schema``) describes the same rules.
"""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from apps.domain.errors import DomainValidationError

FIELD_TYPES: Final = (
    "uuid", "string", "text", "integer", "decimal", "boolean", "datetime", "date", "enum", "json",
)
RELATIONSHIP_TYPES: Final = ("one-to-one", "one-to-many", "many-to-one", "many-to-many")
KEY_TYPES: Final = ("uuid", "integer", "string")
PHASES: Final = ("clarifying", "proposing", "refining", "ready")

NAME_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
NAME_RE: Final = re.compile(NAME_PATTERN)
MAX_ENTITIES: Final = 500
MAX_FIELDS: Final = 200
MAX_RELATIONSHIPS: Final = 2000
MAX_ENUM_VALUES: Final = 100
MAX_ENUM_VALUE_LENGTH: Final = 100
MAX_DESCRIPTION: Final = 2000

FIELD_KEYS: Final = frozenset({"type", "required", "unique", "default", "values", "description"})
ENTITY_KEYS: Final = frozenset({"fields", "description"})
RELATIONSHIP_KEYS: Final = frozenset({"from", "to", "type", "name", "description"})
DOCUMENT_KEYS: Final = frozenset({"entities", "relationships", "phase", "readiness", "confidence"})

# Defaults that mean "computed when the row is created" rather than a literal.
GENERATED_DEFAULTS: Final = {"uuid": "auto", "datetime": "now", "date": "today"}

_SNAKE_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SNAKE_2 = re.compile(r"([a-z0-9])([A-Z])")
_DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")


def snake_case(name: str) -> str:
    """``authorId`` → ``author_id``, ``HTTPServer`` → ``http_server``; used for SQL and Python names."""
    text = _SNAKE_2.sub(r"\1_\2", _SNAKE_1.sub(r"\1_\2", name))
    return re.sub(r"_+", "_", text).strip("_").lower() or name.lower()


def relationship_key(rel: dict[str, Any]) -> tuple[str, str, str]:
    """A relationship's identity: two relationships with the same key are the same one."""
    return (rel["from"], rel["to"], rel.get("name") or "")


def _fail(path: str, problem: str) -> DomainValidationError:
    return DomainValidationError(path, problem)


def check_name(path: str, name: object, what: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _fail(path, f"{what} {name!r} must start with a letter and contain only letters, digits "
                          f"and underscores (at most 63 characters)")
    return name


def _check_keys(path: str, raw: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise _fail(where, f"unknown key in {what}; allowed: {', '.join(sorted(allowed))}")


def _check_bool(path: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, f"must be true or false, not {value!r}")
    return value


def _check_description(path: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise _fail(path, f"must be a string of at most {MAX_DESCRIPTION} characters")
    return value


def _check_default(path: str, ftype: str, value: Any, values: list[str] | None) -> Any:
    if ftype in GENERATED_DEFAULTS and value == GENERATED_DEFAULTS[ftype]:
        return value
    problem: str | None = None
    if ftype in ("string", "text"):
        if not isinstance(value, str):
            problem = "a string"
    elif ftype == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            problem = "an integer"
    elif ftype == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            problem = "a number"
        elif isinstance(value, str) and not _DECIMAL_RE.match(value):
            problem = "a number"
        elif isinstance(value, float):
            try:
                Decimal(repr(value))
            except InvalidOperation:
                problem = "a finite number"
    elif ftype == "boolean":
        if not isinstance(value, bool):
            problem = "true or false"
    elif ftype == "uuid":
        problem = None if isinstance(value, str) and _is_uuid(value) else 'a UUID or "auto"'
    elif ftype == "datetime":
        problem = None if isinstance(value, str) and _is_iso(value, datetime) else 'an ISO datetime or "now"'
    elif ftype == "date":
        problem = None if isinstance(value, str) and _is_iso(value, date) else 'an ISO date or "today"'
    elif ftype == "enum":
        if not isinstance(value, str) or (values is not None and value not in values):
            problem = f"one of the enum values {values}"
    if problem:
        raise _fail(path, f"default for a {ftype} field must be {problem}, not {value!r}")
    return value


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_iso(value: str, kind: type[date] | type[datetime]) -> bool:
    try:
        kind.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return kind is datetime or len(value) == 10


def _check_values(path: str, raw: object) -> list[str]:
    if not isinstance(raw, list):
        raise _fail(path, "enum values must be a list of strings")
    if len(raw) > MAX_ENUM_VALUES:
        raise _fail(path, f"at most {MAX_ENUM_VALUES} enum values")
    seen: set[str] = set()
    for index, value in enumerate(raw):
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_ENUM_VALUE_LENGTH:
            raise _fail(f"{path}[{index}]", f"enum values must be non-empty strings of at most "
                                            f"{MAX_ENUM_VALUE_LENGTH} characters, not {value!r}")
        if value in seen:
            raise _fail(f"{path}[{index}]", f"duplicate enum value {value!r}")
        seen.add(value)
    return list(raw)


def validate_field(path: str, raw: object) -> dict[str, Any]:
    """One field definition → its canonical form."""
    if not isinstance(raw, dict):
        raise _fail(path, "a field must be an object like {\"type\": \"string\", \"required\": true}")
    _check_keys(path, raw, FIELD_KEYS, "a field")
    ftype = raw.get("type")
    if ftype not in FIELD_TYPES:
        raise _fail(f"{path}.type", f"unknown type {ftype!r}; use one of {', '.join(FIELD_TYPES)}")
    field: dict[str, Any] = {
        "type": ftype,
        "required": _check_bool(f"{path}.required", raw.get("required", False)),
        "unique": _check_bool(f"{path}.unique", raw.get("unique", False)),
    }
    values: list[str] | None = None
    if raw.get("values") is not None:
        if ftype != "enum":
            raise _fail(f"{path}.values", f"values only apply to enum fields, not to a {ftype} field")
        values = _check_values(f"{path}.values", raw["values"])
    if ftype == "enum":
        field["values"] = values if values is not None else []
    if raw.get("default") is not None:
        field["default"] = _check_default(f"{path}.default", ftype, raw["default"], values)
    if raw.get("description"):
        field["description"] = _check_description(f"{path}.description", raw["description"])
    return field


def validate_entity(path: str, raw: object) -> dict[str, Any]:
    """One entity ``{"fields": {...}, "description"?}`` → canonical form."""
    if not isinstance(raw, dict):
        raise _fail(path, "an entity must be an object like {\"fields\": {...}}")
    _check_keys(path, raw, ENTITY_KEYS, "an entity")
    raw_fields = raw.get("fields", {})
    if not isinstance(raw_fields, dict):
        raise _fail(f"{path}.fields", "fields must be an object mapping field names to definitions")
    if len(raw_fields) > MAX_FIELDS:
        raise _fail(f"{path}.fields", f"at most {MAX_FIELDS} fields per entity")
    fields: dict[str, dict[str, Any]] = {}
    for name, definition in raw_fields.items():
        fpath = f"{path}.fields.{name}"
        check_name(fpath, name, "field name")
        fields[name] = validate_field(fpath, definition)
    check_unique_names(f"{path}.fields", fields)
    if "id" in fields and fields["id"]["type"] not in KEY_TYPES:
        raise _fail(f"{path}.fields.id.type", f"the key field id must be one of {', '.join(KEY_TYPES)}")
    entity: dict[str, Any] = {"fields": fields}
    if raw.get("description"):
        entity["description"] = _check_description(f"{path}.description", raw["description"])
    return entity


def check_unique_names(path: str, names: dict[str, Any]) -> None:
    """Names that differ only in case or underscores would collide in SQL and Python."""
    seen: dict[str, str] = {}
    for name in names:
        key = snake_case(name)
        if key in seen:
            raise _fail(f"{path}.{name}", f"{name!r} collides with {seen[key]!r} (both become {key!r})")
        seen[key] = name


def validate_relationship(path: str, raw: object) -> dict[str, Any]:
    """Shape only; whether both ends exist is checked against the whole model."""
    if not isinstance(raw, dict):
        raise _fail(path, "a relationship must be an object like "
                          "{\"from\": \"Comment\", \"to\": \"Post\", \"type\": \"many-to-one\"}")
    _check_keys(path, raw, RELATIONSHIP_KEYS, "a relationship")
    rel: dict[str, Any] = {
        "from": check_name(f"{path}.from", raw.get("from"), "entity name"),
        "to": check_name(f"{path}.to", raw.get("to"), "entity name"),
    }
    if raw.get("type") not in RELATIONSHIP_TYPES:
        raise _fail(f"{path}.type", f"unknown relationship type {raw.get('type')!r}; use one of "
                                    f"{', '.join(RELATIONSHIP_TYPES)}")
    rel["type"] = raw["type"]
    if raw.get("name") is not None:
        rel["name"] = check_name(f"{path}.name", raw["name"], "relationship name")
    if raw.get("description"):
        rel["description"] = _check_description(f"{path}.description", raw["description"])
    return rel


def check_relationships_resolve(entities: dict[str, Any], relationships: list[dict[str, Any]],
                                path: str = "relationships") -> None:
    seen: set[tuple[str, str, str]] = set()
    for index, rel in enumerate(relationships):
        for end in ("from", "to"):
            if rel[end] not in entities:
                known = ", ".join(sorted(entities)) or "none yet"
                raise _fail(f"{path}[{index}].{end}", f"no entity named {rel[end]!r} (known: {known})")
        key = relationship_key(rel)
        if key in seen:
            raise _fail(f"{path}[{index}]", f"duplicate relationship {rel['from']} → {rel['to']}"
                                            + (f" named {key[2]!r}" if key[2] else ""))
        seen.add(key)


def check_confidence(path: str, value: object) -> float:
    """Confidence comes from the model: any number, clamped to 0–1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise _fail(path, f"confidence must be a number between 0 and 1, not {value!r}")
    return round(min(1.0, max(0.0, float(value))), 3)


def check_phase(path: str, value: object) -> str:
    if value not in PHASES:
        raise _fail(path, f"unknown phase {value!r}; use one of {', '.join(PHASES)}")
    return str(value)


def validate_entities(path: str, raw: object) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _fail(path, "entities must be an object mapping entity names to entities")
    if len(raw) > MAX_ENTITIES:
        raise _fail(path, f"at most {MAX_ENTITIES} entities")
    entities = {}
    for name, entity in raw.items():
        check_name(f"{path}.{name}", name, "entity name")
        entities[name] = validate_entity(f"{path}.{name}", entity)
    check_unique_names(path, entities)
    return entities


def validate_relationships(path: str, raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise _fail(path, "relationships must be a list")
    if len(raw) > MAX_RELATIONSHIPS:
        raise _fail(path, f"at most {MAX_RELATIONSHIPS} relationships")
    return [validate_relationship(f"{path}[{i}]", rel) for i, rel in enumerate(raw)]


def validate_dsl(raw: object) -> dict[str, Any]:
    """A whole document → ``{"entities", "relationships"}`` (canonical), plus ``phase`` and
    ``confidence`` when given. ``readiness`` is accepted and ignored: the server computes it.

    Raises:
        DomainValidationError: naming the first bad path.
    """
    if not isinstance(raw, dict):
        raise _fail("", "a domain model must be a JSON object with entities and relationships")
    _check_keys("", raw, DOCUMENT_KEYS, "a domain model")
    entities = validate_entities("entities", raw.get("entities", {}))
    relationships = validate_relationships("relationships", raw.get("relationships", []))
    check_relationships_resolve(entities, relationships)
    document: dict[str, Any] = {"entities": entities, "relationships": relationships}
    if raw.get("phase") is not None:
        document["phase"] = check_phase("phase", raw["phase"])
    if raw.get("confidence") is not None:
        document["confidence"] = check_confidence("confidence", raw["confidence"])
    if raw.get("readiness") is not None:
        value = raw["readiness"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise _fail("readiness", "readiness must be a number from 0 to 100")
    return document
