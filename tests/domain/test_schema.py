"""The DSL's validation and its published JSON Schema agree, and name the bad path."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from apps.domain.dsl_schema import dsl_document_schema
from apps.domain.errors import DomainValidationError
from apps.domain.schema import snake_case, validate_dsl
from tests.domain.seed import seed_blog

VALIDATOR = Draft202012Validator(dsl_document_schema())


def test_seed_blog_validates_as_written() -> None:
    document = seed_blog()
    VALIDATOR.validate(document)
    result = validate_dsl(document)
    assert list(result["entities"]) == ["User", "Post", "Comment", "Tag"]
    assert result["entities"]["User"]["fields"]["role"] == {
        "type": "enum", "required": False, "unique": False, "values": ["admin", "author", "reader"]}
    assert result["entities"]["Comment"]["fields"]["approved"]["default"] is False
    assert result["phase"] == "proposing" and result["confidence"] == 0.85
    assert "readiness" not in result  # the server computes it


def _with(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(seed_blog())
    change(document)
    return document


def _fields(doc: dict[str, Any], entity: str = "Post") -> dict[str, Any]:
    fields: dict[str, Any] = doc["entities"][entity]["fields"]
    return fields


INVALID = [
    ("unknown type", lambda d: _fields(d)["title"].update(type="varchar"),
     "entities.Post.fields.title.type", True),
    ("enum default outside values", lambda d: _fields(d)["status"].update(default="deleted"),
     "entities.Post.fields.status.default", False),
    ("values on a string", lambda d: _fields(d)["title"].update(values=["a"]),
     "entities.Post.fields.title.values", True),
    ("duplicate enum value", lambda d: _fields(d)["status"].update(values=["a", "a"]),
     "entities.Post.fields.status.values[1]", True),
    ("relationship to a missing entity", lambda d: d["relationships"].append(
        {"from": "Post", "to": "Autor", "type": "many-to-one"}), "relationships[4].to", False),
    ("duplicate relationship", lambda d: d["relationships"].append(
        {"from": "Comment", "to": "Post", "type": "one-to-one"}), "relationships[4]", False),
    ("bad relationship type", lambda d: d["relationships"][0].update(type="belongs-to"),
     "relationships[0].type", True),
    ("names that collide in SQL", lambda d: _fields(d).update(author_id={"type": "uuid"}),
     "entities.Post.fields.author_id", False),
    ("entity names that collide", lambda d: d["entities"].update(post={"fields": {}}),
     "entities.post", False),
    ("a field name with a space", lambda d: _fields(d).update({"published at": {"type": "date"}}),
     "entities.Post.fields.published at", True),
    ("unknown field key", lambda d: _fields(d)["title"].update(maxLength=80),
     "entities.Post.fields.title.maxLength", True),
    ("required not a boolean", lambda d: _fields(d)["title"].update(required="yes"),
     "entities.Post.fields.title.required", True),
    ("json key", lambda d: _fields(d, "Tag")["id"].update(type="json"),
     "entities.Tag.fields.id.type", False),
    ("bad date default", lambda d: _fields(d).update(day={"type": "date", "default": "tomorrow"}),
     "entities.Post.fields.day.default", False),
    ("integer default is a string", lambda d: _fields(d).update(n={"type": "integer", "default": "3"}),
     "entities.Post.fields.n.default", False),
    ("unknown phase", lambda d: d.update(phase="done"), "phase", True),
    ("unknown top-level key", lambda d: d.update(version=3), "version", True),
]


@pytest.mark.parametrize(("change", "path", "schema_rejects"),
                         [pytest.param(c, p, s, id=n) for n, c, p, s in INVALID])
def test_invalid_documents_name_the_bad_path(change: Any, path: str, schema_rejects: bool) -> None:
    document = _with(change)
    with pytest.raises(DomainValidationError) as caught:
        validate_dsl(document)
    assert caught.value.path == path
    assert caught.value.message.startswith(f"{path}: ")
    assert caught.value.status == 422 and caught.value.code == "invalid_domain_model"
    # What JSON Schema can express, the published schema rejects too.
    assert VALIDATOR.is_valid(document) is not schema_rejects


def test_defaults_of_every_type_and_generated_defaults() -> None:
    fields = {
        "a": {"type": "uuid", "default": "auto"}, "b": {"type": "datetime", "default": "now"},
        "c": {"type": "date", "default": "today"}, "d": {"type": "decimal", "default": "9.99"},
        "e": {"type": "decimal", "default": 3}, "f": {"type": "json", "default": {"x": [1]}},
        "g": {"type": "datetime", "default": "2024-01-02T03:04:05Z"}, "h": {"type": "date", "default": "2024-01-02"},
        "i": {"type": "uuid", "default": "6f1c3d9e-3b7a-4c1e-9d0b-2a7f5e8c4b11"},
    }
    result = validate_dsl({"entities": {"Thing": {"fields": fields}}})
    assert result["entities"]["Thing"]["fields"]["f"]["default"] == {"x": [1]}
    VALIDATOR.validate({"entities": {"Thing": {"fields": fields}}})


def test_confidence_is_clamped_and_enum_values_may_be_pending() -> None:
    assert validate_dsl({"confidence": 7})["confidence"] == 1.0
    assert validate_dsl({"confidence": -1})["confidence"] == 0.0
    pending = validate_dsl({"entities": {"A": {"fields": {"s": {"type": "enum"}}}}})
    assert pending["entities"]["A"]["fields"]["s"]["values"] == []


def test_snake_case() -> None:
    assert snake_case("authorId") == "author_id"
    assert snake_case("HTTPServer") == "http_server"
    assert snake_case("order__item") == "order_item"


@pytest.mark.django_db
def test_dsl_json_schema_is_published_without_auth() -> None:
    response = APIClient().get("/api/schema/dsl.json")
    assert response.status_code == 200
    schema = response.json()
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "/api/schema/dsl.json"
    assert Draft202012Validator(schema).is_valid(seed_blog())
