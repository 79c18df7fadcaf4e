"""The ``update_domain_model`` tool a model is offered in chat and build modes."""
from __future__ import annotations

from typing import Final

from apps.domain.dsl_schema import update_parameters_schema
from apps.providers.base import ToolSpec

UPDATE_DOMAIN_MODEL: Final = "update_domain_model"

_DESCRIPTION = (
    "Keep the project's domain model current. Call it whenever the conversation adds, changes or "
    "removes entities, fields or relationships — send only what changes, the server merges it into "
    "the current model (shown in the system prompt) and stores a new version.\n"
    "- entities: {Name: {fields: {fieldName: {type, required?, unique?, default?, values?}}}}. "
    "Names are identifiers (PascalCase entities, camelCase fields). Types: uuid, string, text, "
    "integer, decimal, boolean, datetime, date, enum (give its values), json. Give each entity an "
    "`id` (uuid, required). A listed field replaces that field whole; unlisted fields are kept.\n"
    "- relationships: [{from, to, type, name?}], type one-to-one | one-to-many | many-to-one | "
    "many-to-many, read from → to (Comment many-to-one Post). Both ends must exist after the update; "
    "a relationship with the same from, to and name is replaced.\n"
    "- rename: {entities: [{from, to}], fields: [{entity, from, to}]} — applied first; send rename "
    "and remove before entities so the live preview matches.\n"
    "- remove: {entities: [Name], fields: [{entity, field}], relationships: [{from, to, name?}]}.\n"
    "- phase: clarifying | proposing | refining | ready; confidence: 0–1, how sure you are.\n"
    "Readiness is computed by the server. An invalid update is refused whole with an error naming "
    "the bad path: fix that part and call again."
)

UPDATE_DOMAIN_MODEL_TOOL: Final = ToolSpec(
    name=UPDATE_DOMAIN_MODEL,
    description=_DESCRIPTION,
    parameters=update_parameters_schema(),
)
