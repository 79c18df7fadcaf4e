"""JSON Schemas of the DSL: the document (published at ``/api/schema/dsl.json``) and the
``update_domain_model`` tool's parameters. Both are built from ``apps.domain.schema`` so
they cannot drift from the validator. Rules a JSON Schema cannot state (relationships
resolve, names do not collide once snake_cased, defaults fit their type) are enforced by
``validate_dsl`` / ``validate_update`` and named in the descriptions.
"""
from __future__ import annotations

from typing import Any

from apps.domain.schema import (
    FIELD_TYPES,
    MAX_DESCRIPTION,
    MAX_ENTITIES,
    MAX_ENUM_VALUE_LENGTH,
    MAX_ENUM_VALUES,
    MAX_FIELDS,
    MAX_RELATIONSHIPS,
    NAME_PATTERN,
    PHASES,
    RELATIONSHIP_TYPES,
)

SCHEMA_ID = "/api/schema/dsl.json"


def _name(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": NAME_PATTERN, "description": description}


def field_schema(*, conditional: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["type"],
        "properties": {
            "type": {"enum": list(FIELD_TYPES)},
            "required": {"type": "boolean", "default": False},
            "unique": {"type": "boolean", "default": False},
            "default": {"description": 'Must fit the type; "auto" (uuid), "now" (datetime) and '
                                       '"today" (date) mean generated when a row is created.'},
            "values": {"type": "array", "maxItems": MAX_ENUM_VALUES, "uniqueItems": True,
                       "items": {"type": "string", "minLength": 1, "maxLength": MAX_ENUM_VALUE_LENGTH},
                       "description": "The allowed values of an enum field (enum fields only)."},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        },
    }
    if conditional:  # tool parameters stay plain: some providers reject if/then
        schema["if"] = {"properties": {"type": {"not": {"const": "enum"}}}}
        schema["then"] = {"not": {"required": ["values"]}}
    return schema


def entity_schema(*, conditional: bool = True) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "fields": {
                "type": "object",
                "maxProperties": MAX_FIELDS,
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": field_schema(conditional=conditional),
            },
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        },
    }


def relationship_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "to", "type"],
        "properties": {
            "from": _name("The entity the relationship starts from."),
            "to": _name("The entity it points to; both ends must be entities of the model."),
            "type": {"enum": list(RELATIONSHIP_TYPES),
                     "description": "Read from → to: Comment many-to-one Post means many comments "
                                    "belong to one post."},
            "name": _name("The role name, e.g. 'author' for Post → User."),
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        },
    }


def _entities(*, conditional: bool = True) -> dict[str, Any]:
    return {"type": "object", "maxProperties": MAX_ENTITIES, "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": entity_schema(conditional=conditional)}


def _relationships() -> dict[str, Any]:
    return {"type": "array", "maxItems": MAX_RELATIONSHIPS, "items": relationship_schema()}


def dsl_document_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a whole domain model document."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Blueprint domain model",
        "description": "Entities with typed fields and the relationships between them. Also enforced "
                       "by the server: relationships name existing entities; entity names (and field "
                       "names within an entity) stay distinct once snake_cased; defaults fit their "
                       "type. readiness is computed by the server and ignored on input.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "entities": _entities(),
            "relationships": _relationships(),
            "phase": {"enum": list(PHASES)},
            "readiness": {"type": "number", "minimum": 0, "maximum": 100},
            "confidence": {"type": "number", "description": "0–1; values outside are clamped."},
        },
    }


def _ref_list(keys: list[str], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    props = {key: {"type": "string", "pattern": NAME_PATTERN} for key in keys + list(optional)}
    return {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                       "required": keys, "properties": props}}


def update_parameters_schema() -> dict[str, Any]:
    """The tool's parameters: an update merged into the current model."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "entities": {**_entities(conditional=False), "description":
                         "Entities to add or change. For an existing entity, each listed field is added "
                         "or replaced whole; fields you leave out are kept."},
            "relationships": {**_relationships(), "description":
                              "Relationships to add, or to change when one with the same from, to and "
                              "name exists."},
            "remove": {
                "type": "object",
                "additionalProperties": False,
                "description": "Things to delete. Removing an entity removes its relationships.",
                "properties": {
                    "entities": {"type": "array", "items": {"type": "string", "pattern": NAME_PATTERN}},
                    "fields": _ref_list(["entity", "field"]),
                    "relationships": _ref_list(["from", "to"], ("name",)),
                },
            },
            "rename": {
                "type": "object",
                "additionalProperties": False,
                "description": "Renames, applied first; relationships follow a renamed entity.",
                "properties": {
                    "entities": _ref_list(["from", "to"]),
                    "fields": _ref_list(["entity", "from", "to"]),
                },
            },
            "phase": {"enum": list(PHASES), "description":
                      "Where the conversation is: clarifying (asking questions), proposing (a first "
                      "model), refining (adjusting it), ready (the person agrees it is complete)."},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                           "description": "How sure you are that the model matches what the person wants."},
        },
    }
