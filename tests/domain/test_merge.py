"""Merge semantics of update_domain_model: add, change, remove, rename — all or nothing."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apps.domain.errors import DomainValidationError
from apps.domain.merge import merge_update, validate_update
from apps.domain.tools import UPDATE_DOMAIN_MODEL_TOOL
from tests.domain.models_fixtures import blog
from tests.domain.seed import seed_blog

TOOL = Draft202012Validator(UPDATE_DOMAIN_MODEL_TOOL.parameters)


def apply(current: dict[str, Any] | None, arguments: dict[str, Any]) -> dict[str, Any]:
    TOOL.validate(arguments)  # the tool's schema describes every update we send
    return merge_update(current, validate_update(arguments))


def test_tool_spec_shape() -> None:
    assert UPDATE_DOMAIN_MODEL_TOOL.name == "update_domain_model"
    assert "remove" in UPDATE_DOMAIN_MODEL_TOOL.description and "rename" in UPDATE_DOMAIN_MODEL_TOOL.description
    Draft202012Validator.check_schema(UPDATE_DOMAIN_MODEL_TOOL.parameters)


def test_seed_shape_is_a_valid_first_update() -> None:
    arguments = {k: v for k, v in seed_blog().items() if k != "readiness"}
    result = apply(None, arguments)
    assert result == {"entities": blog()["entities"], "relationships": blog()["relationships"]}


def test_upsert_adds_fields_and_replaces_a_field_whole() -> None:
    before = blog()
    after = apply(before, {"entities": {"Post": {"fields": {
        "status": {"type": "enum", "values": ["draft", "live"], "default": "draft"},
        "views": {"type": "integer", "required": True, "default": 0}}}}})
    post = after["entities"]["Post"]["fields"]
    assert post["status"] == {"type": "enum", "required": False, "unique": False, "values": ["draft", "live"],
                              "default": "draft"}
    assert post["views"]["default"] == 0 and "title" in post  # unlisted fields stay
    assert before["entities"]["Post"]["fields"]["status"]["values"][1] == "published"  # input untouched


def test_relationships_upsert_by_identity() -> None:
    after = apply(blog(), {"relationships": [
        {"from": "Comment", "to": "Post", "type": "one-to-one"},
        {"from": "Post", "to": "User", "type": "many-to-one", "name": "editor"}]})
    rels = after["relationships"]
    assert len(rels) == 5
    assert rels[1] == {"from": "Comment", "to": "Post", "type": "one-to-one"}
    assert rels[4]["name"] == "editor"


def test_rename_entity_moves_relationships_and_runs_first() -> None:
    after = apply(blog(), {"rename": {"entities": [{"from": "User", "to": "Author"}]},
                           "entities": {"Author": {"fields": {"bio": {"type": "text"}}}}})
    assert "User" not in after["entities"]
    assert next(iter(after["entities"])) == "Author"  # keeps its place
    assert "bio" in after["entities"]["Author"]["fields"] and "email" in after["entities"]["Author"]["fields"]
    assert {r["to"] for r in after["relationships"] if r.get("name") == "author"} == {"Author"}


def test_rename_field_keeps_the_definition() -> None:
    after = apply(blog(), {"rename": {"fields": [{"entity": "Post", "from": "content", "to": "body"}]}})
    fields = after["entities"]["Post"]["fields"]
    assert "content" not in fields and fields["body"]["type"] == "text"
    assert list(fields).index("body") == 3


def test_remove_entity_cascades_relationships() -> None:
    after = apply(blog(), {"remove": {"entities": ["Tag"], "fields": [{"entity": "Post", "field": "excerpt"}],
                                      "relationships": [{"from": "Comment", "to": "User"}]}})
    assert "Tag" not in after["entities"] and "excerpt" not in after["entities"]["Post"]["fields"]
    assert [(r["from"], r["to"]) for r in after["relationships"]] == [("Post", "User"), ("Comment", "Post")]


ERRORS = [
    ({"rename": {"entities": [{"from": "Writer", "to": "Author"}]}}, "rename.entities[0].from"),
    ({"rename": {"entities": [{"from": "User", "to": "Post"}]}}, "rename.entities[0].to"),
    ({"rename": {"fields": [{"entity": "Post", "from": "nope", "to": "x"}]}}, "rename.fields[0].from"),
    ({"rename": {"fields": [{"entity": "Post", "from": "title", "to": "slug"}]}}, "rename.fields[0].to"),
    ({"remove": {"entities": ["Ghost"]}}, "remove.entities[0]"),
    ({"remove": {"fields": [{"entity": "Tag", "field": "color"}]}}, "remove.fields[0].field"),
    ({"remove": {"relationships": [{"from": "Tag", "to": "Post"}]}}, "remove.relationships[0]"),
    ({"relationships": [{"from": "Like", "to": "Post", "type": "many-to-one"}]}, "relationships[0].from"),
    ({"remove": {"entities": ["Tag"]}, "relationships": [{"from": "Post", "to": "Tag", "type": "many-to-many"}]},
     "relationships[0].to"),
    ({"entities": {"Post": {"fields": {"author_id": {"type": "uuid"}}}}}, "entities.Post.fields.author_id"),
    ({"entities": {"Post": {"fields": {"title": {"type": "str"}}}}}, "entities.Post.fields.title.type"),
    ({"phase": "finished"}, "phase"),
    ({"remove": {"everything": True}}, "remove.everything"),
]


@pytest.mark.parametrize(("arguments", "path"), ERRORS)
def test_invalid_updates_are_refused_whole(arguments: dict[str, Any], path: str) -> None:
    before = blog()
    snapshot = copy.deepcopy(before)
    with pytest.raises(DomainValidationError) as caught:
        merge_update(before, validate_update(arguments))
    assert caught.value.path == path, caught.value.message
    assert before == snapshot
