"""Domain models the export and service tests share: seed 000's blog and an awkward one."""
from __future__ import annotations

from typing import Any

from apps.domain.schema import validate_dsl
from tests.domain.seed import seed_blog


def blog() -> dict[str, Any]:
    return validate_dsl(seed_blog())


def awkward() -> dict[str, Any]:
    """Reserved words, self-references, cycles, a missing id, integer and string keys,
    names that clash with TypeScript globals, defaults of every kind, json defaults."""
    return validate_dsl({
        "entities": {
            "Order": {"fields": {
                "id": {"type": "integer", "required": True},
                "from": {"type": "string"},
                "class": {"type": "enum", "values": ["a-b", "A B", "it's", "1st", 'say "hi"']},
                "total": {"type": "decimal", "required": True, "default": "0.00"},
                "meta": {"type": "json", "default": {"tags": ["x"], "n": 1}},
                "extra": {"type": "json", "default": {}},
                "placedAt": {"type": "datetime", "required": True, "default": "now"},
                "placedOn": {"type": "date", "default": "today"},
                "shipBy": {"type": "date", "default": "2030-01-31"},
                "token": {"type": "uuid", "default": "auto"},
                "paid": {"type": "boolean", "default": False},
                "pk": {"type": "integer", "default": 3},
                "save": {"type": "text", "description": "a */ tricky \"doc\""},
                "status": {"type": "enum", "values": []},
            }},
            "Event": {"fields": {"name": {"type": "string", "required": True, "unique": True}}},
            "user": {"fields": {"id": {"type": "string", "required": True},
                                "email": {"type": "string", "required": True, "unique": True}}},
            "Employee": {"fields": {"id": {"type": "uuid", "required": True}, "managerId": {"type": "uuid"}}},
            "JsonValue": {"fields": {"id": {"type": "uuid"}, "payload": {"type": "json", "required": True}}},
        },
        "relationships": [
            {"from": "Order", "to": "user", "type": "many-to-one", "name": "buyer"},
            {"from": "Order", "to": "user", "type": "many-to-one", "name": "seller"},
            {"from": "user", "to": "Order", "type": "one-to-many", "name": "orders"},
            {"from": "Employee", "to": "Employee", "type": "many-to-one", "name": "manager"},
            {"from": "Employee", "to": "Employee", "type": "many-to-many", "name": "mentors"},
            {"from": "Event", "to": "Order", "type": "one-to-one"},
            {"from": "Order", "to": "Event", "type": "many-to-many"},
            {"from": "Event", "to": "user", "type": "many-to-one"},
            {"from": "user", "to": "Event", "type": "many-to-one", "name": "favourite"},
        ],
    })
