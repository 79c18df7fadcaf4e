"""REST: current, versions, diff, PUT, exports — scoped to the caller's workspace."""
from __future__ import annotations

import json
from typing import Any

import pytest

from apps.chats.services import chat_create
from apps.domain.services import domain_model_apply_update
from tests.conftest import Tenant
from tests.domain.seed import seed_blog

pytestmark = pytest.mark.django_db


def _url(chat: Any, suffix: str = "") -> str:
    return f"/api/chats/{chat.id}/domain-model{suffix}"


@pytest.fixture
def chat(tenant: Tenant) -> Any:
    return chat_create(project=tenant.project, title="Blog")


def test_current_before_and_after_the_first_version(tenant: Tenant, chat: Any) -> None:
    empty = tenant.client.get(_url(chat)).json()
    assert empty == {"domainModel": {"entities": {}, "relationships": []}, "version": 0, "phase": "clarifying",
                     "readiness": 0, "confidence": 0.0}
    domain_model_apply_update(chat=chat, arguments=seed_blog())
    body = tenant.client.get(_url(chat)).json()
    assert body["version"] == 1 and body["phase"] == "proposing" and body["readiness"] == 100
    assert list(body["domainModel"]["entities"]) == ["User", "Post", "Comment", "Tag"]  # order kept
    assert list(body["domainModel"]["entities"]["User"]["fields"]) == ["id", "email", "name", "role"]


def test_versions_version_and_diff(tenant: Tenant, chat: Any) -> None:
    domain_model_apply_update(chat=chat, arguments=seed_blog())
    domain_model_apply_update(chat=chat, arguments={"remove": {"entities": ["Tag"]}})
    versions = tenant.client.get(_url(chat, "/versions")).json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["changes"]["removed"] == 5  # Tag, its 3 fields… counted per section
    assert versions[0]["author"] == "model" and versions[0]["createdAt"]
    one = tenant.client.get(_url(chat, "/versions/1")).json()
    assert one["version"] == 1 and "Tag" in one["domainModel"]["entities"] and one["diff"]["entities"]["added"]
    assert tenant.client.get(_url(chat, "/versions/9")).status_code == 404
    diff = tenant.client.get(_url(chat, "/diff?from=1&to=2")).json()
    assert diff["diff"]["entities"]["removed"] == ["Tag"]
    default = tenant.client.get(_url(chat, "/diff")).json()
    assert (default["from"], default["to"]) == (1, 2)
    bad = tenant.client.get(_url(chat, "/diff?from=x"))
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "from"


def test_put_by_a_person_is_validated_and_becomes_a_version(tenant: Tenant, chat: Any) -> None:
    response = tenant.client.put(_url(chat), seed_blog(), format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 1
    current = tenant.client.get(_url(chat)).json()
    current["domainModel"]["entities"]["Tag"]["fields"]["color"] = {"type": "string"}
    current["baseVersion"] = 1
    edited = tenant.client.put(_url(chat), current, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["diff"]["fields"]["added"][0]["field"] == "color"
    assert tenant.client.get(_url(chat, "/versions/2")).json()["author"] == "person"
    stale = tenant.client.put(_url(chat), {**current, "baseVersion": 1}, format="json")
    assert stale.status_code == 409
    broken = seed_blog()
    broken["relationships"].append({"from": "Post", "to": "Nope", "type": "many-to-one"})
    refused = tenant.client.put(_url(chat), broken, format="json")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_domain_model" and error["path"] == "relationships[4].to"
    assert tenant.client.get(_url(chat)).json()["version"] == 2


@pytest.mark.parametrize(("fmt", "needle", "content_type"), [
    ("jsonschema", '"$defs"', "application/schema+json"),
    ("django", "class Post(models.Model)", "text/x-python"),
    ("sql", 'CREATE TABLE "post"', "application/sql"),
    ("mermaid", "erDiagram", "text/vnd.mermaid"),
    ("typescript", "export interface Post", "application/typescript"),
    ("openapi", '"openapi": "3.1.0"', "application/json"),
])
def test_export_formats(tenant: Tenant, chat: Any, fmt: str, needle: str, content_type: str) -> None:
    domain_model_apply_update(chat=chat, arguments=seed_blog())
    response = tenant.client.get(_url(chat, f"/export?format={fmt}"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert needle in response.content.decode()
    if fmt in ("jsonschema", "openapi"):
        json.loads(response.content)


def test_bad_export_format_lists_the_valid_ones(tenant: Tenant, chat: Any) -> None:
    response = tenant.client.get(_url(chat, "/export?format=xml"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "format"
    assert error["validFormats"] == ["jsonschema", "django", "sql", "mermaid", "typescript", "openapi"]
    assert "jsonschema, django, sql, mermaid, typescript, openapi" in error["message"]


def test_other_workspaces_get_404_and_anonymous_401(tenant: Tenant, other_tenant: Tenant, chat: Any) -> None:
    domain_model_apply_update(chat=chat, arguments=seed_blog())
    for suffix in ("", "/versions", "/versions/1", "/diff", "/export?format=sql"):
        assert other_tenant.client.get(_url(chat, suffix)).status_code == 404
    assert other_tenant.client.put(_url(chat), seed_blog(), format="json").status_code == 404
    from rest_framework.test import APIClient

    assert APIClient().get(_url(chat)).status_code == 401
