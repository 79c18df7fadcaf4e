"""A JSON field whose key order survives the database.

Postgres ``jsonb`` reorders object keys (shortest first), which would scramble the order
of entities and fields a person or the model chose. The ``json`` type keeps the text as
sent. Nothing queries inside the model, so jsonb's operators are not missed.
"""
from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class OrderedJSONField(models.JSONField):
    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        from psycopg.types.json import Json  # sent as json, so never re-parsed as jsonb

        return Json(value)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if isinstance(value, (dict, list)):  # psycopg already decoded the json type
            return value
        return super().from_db_value(value, expression, connection)
