"""Tenant isolation: another workspace's object is a 404 identical to a missing one.

Two workspaces; every REST route of projects, chats, history, runs and API keys; each verb.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.urls import URLPattern
from rest_framework.test import APIClient

from apps.chats.attachments import AttachmentUpload, attachments_create
from apps.chats.models import Chat, Message, Run
from apps.core.models import ApiKey
from apps.projects.file_services import project_file_write
from apps.projects.models import CustomMode, Project, ProjectFile
from tests.factories import RunEventFactory, RunFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # {project} {chat} {run} {key} are the other workspace's; {own_project} is ours
    body: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}"


SCOPED_ROUTES = [
    Route("GET", "/api/projects/{project}"),
    Route("PATCH", "/api/projects/{project}", {"name": "hijacked"}),
    Route("DELETE", "/api/projects/{project}"),
    Route("GET", "/api/projects/{project}/chats"),
    Route("POST", "/api/projects/{project}/chats", {"mode": "chat", "title": "planted"}),
    Route("GET", "/api/chats/{chat}"),
    Route("PATCH", "/api/chats/{chat}", {"title": "hijacked"}),
    Route("DELETE", "/api/chats/{chat}"),
    Route("GET", "/api/chat/{project}/messages?chatId={chat}"),
    Route("GET", "/api/chat/{own_project}/messages?chatId={chat}"),
    Route("GET", "/api/chat/{project}/messages?chatId={own_chat}"),
    Route("GET", "/api/runs/{run}"),
    Route("GET", "/api/runs/{run}/events"),
    Route("GET", "/api/runs/{run}/events?after=1"),
    Route("DELETE", "/api/api-keys/{key}"),
    Route("GET", "/api/attachments/{attachment}"),
    Route("GET", "/api/projects/{project}/modes"),
    Route("POST", "/api/projects/{project}/modes", {"name": "planted"}),
    Route("GET", "/api/projects/{project}/modes/{mode}"),
    Route("PATCH", "/api/projects/{project}/modes/{mode}", {"systemPrompt": "hijacked"}),
    Route("DELETE", "/api/projects/{project}/modes/{mode}"),
    Route("GET", "/api/projects/{project}/files"),
    Route("GET", "/api/projects/{project}/files/{path}"),
    Route("PUT", "/api/projects/{project}/files/{path}", {"content": "planted"}),
    Route("DELETE", "/api/projects/{project}/files/{path}"),
    Route("GET", "/api/projects/{project}/file-versions/{path}"),
    Route("POST", "/api/direct-save/{project}",
          {"filePath": "{path}", "patches": [{"selector": "h1", "property": "text", "value": "planted"}]}),
]
COLLECTION_ROUTES = {("GET", "/api/projects"), ("POST", "/api/projects"), ("GET", "/api/api-keys"),
                     ("POST", "/api/api-keys"), ("GET", "/api/health")}


@pytest.fixture
def world(tenant, other_tenant):
    chat = Chat.objects.get(project=other_tenant.project, is_default=True)
    run = RunFactory(chat=chat)
    RunEventFactory(run=run, seq=1, type="run.started")
    RunEventFactory(run=run, seq=2)
    (attachment,) = attachments_create(chat=chat, message_id=None, uploads=[
        AttachmentUpload("image", "image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "dot.gif", 1, 1)])
    CustomMode.objects.create(project=other_tenant.project, name="theirs")
    file = project_file_write(project=other_tenant.project, path="src/App.tsx", source="api",
                              content="export const App = () => <h1>Theirs</h1>;\n")
    return {
        "mode": "theirs",
        "project": other_tenant.project.pk, "chat": chat.pk, "run": run.pk, "key": other_tenant.api_key.pk,
        "attachment": attachment.pk,
        "path": file.path,
        "own_project": tenant.project.pk,
        "own_chat": Chat.objects.get(project=tenant.project, is_default=True).pk,
    }


def _call(client: APIClient, route: Route, ids: dict) -> tuple[int, object]:
    url = route.template.format(**ids)
    body = {**route.body, "filePath": ids["path"]} if route.body and "filePath" in route.body else route.body
    response = getattr(client, route.method.lower())(url, body, format="json")
    is_json = response.get("Content-Type", "").startswith("application/json")
    return response.status_code, (response.json() if response.content and is_json else None)


def _snapshot(other_tenant) -> tuple:
    return (
        list(Project.objects.filter(workspace=other_tenant.workspace).values_list("id", "name", "updated_at")),
        list(Chat.objects.filter(project__workspace=other_tenant.workspace).values_list("id", "title", "mode")),
        Message.objects.filter(chat__project__workspace=other_tenant.workspace).count(),
        Run.objects.filter(chat__project__workspace=other_tenant.workspace).count(),
        list(ApiKey.objects.filter(workspace=other_tenant.workspace).values_list("id", "revoked_at")),
        list(CustomMode.objects.filter(project__workspace=other_tenant.workspace).values_list("name", "system_prompt")),
        list(ProjectFile.objects.filter(project__workspace=other_tenant.workspace).values_list("path", "version")),
    )


@pytest.mark.parametrize("route", SCOPED_ROUTES, ids=lambda r: r.id)
def test_other_workspace_object_is_indistinguishable_from_a_missing_one(tenant, other_tenant, world, route):
    before = _snapshot(other_tenant)
    status, body = _call(tenant.client, route, world)
    foreign = {"project", "chat", "run", "key", "attachment"}
    random_ids = {name: (uuid.uuid4() if name in foreign else value) for name, value in world.items()}
    random_status, random_body = _call(tenant.client, route, random_ids)
    assert status == random_status == 404
    assert body == random_body
    assert set(body) == {"error"} and body["error"]["code"] == "not_found"
    assert _snapshot(other_tenant) == before  # nothing changed on the other side

    # ... and the owner still reaches it (the 404 is about scope, not a broken route).
    own_status, _ = _call(other_tenant.client, route, {**world, "own_project": world["project"],
                                                         "own_chat": world["chat"]})
    assert own_status < 400 or own_status == 409


def test_lists_show_only_own_objects(tenant, other_tenant, world):
    projects = tenant.client.get("/api/projects").json()["projects"]
    assert [p["id"] for p in projects] == [str(tenant.project.pk)]
    keys = tenant.client.get("/api/api-keys").json()["apiKeys"]
    assert [k["id"] for k in keys] == [str(tenant.api_key.pk)]
    created = tenant.client.post("/api/projects", {"name": "mine"}, format="json").json()
    assert Project.objects.get(pk=created["id"]).workspace == tenant.workspace


@pytest.mark.parametrize("route", SCOPED_ROUTES, ids=lambda r: r.id)
def test_every_scoped_route_needs_credentials(world, route):
    status, body = _call(APIClient(), route, world)
    assert status == 401
    assert body["error"]["code"] == "unauthenticated"


def _served_routes() -> set[tuple[str, str]]:
    from apps.chats.urls import urlpatterns as chat_urls
    from apps.core.urls import urlpatterns as core_urls
    from apps.projects.urls import urlpatterns as project_urls

    served = set()
    for pattern in [*core_urls, *project_urls, *chat_urls]:
        assert isinstance(pattern, URLPattern)
        view_class = pattern.callback.cls  # type: ignore[attr-defined]
        route = "/api/" + str(pattern.pattern).replace("<str:", "{").replace("<path:", "{").replace(">", "}")
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view_class, method):
                served.add((method.upper(), route))
    return served


def test_the_matrix_covers_every_route_and_verb():
    def normalise(template: str) -> str:
        path = template.split("?")[0]
        for name, placeholder in {"own_project": "projectId", "project": "projectId", "chat": "chatId",
                                  "run": "runId", "key": "keyId", "attachment": "attachmentId",
                                  "mode": "name"}.items():
            path = path.replace("{" + name + "}", "{" + placeholder + "}")
        return path

    covered = {(r.method, normalise(r.template)) for r in SCOPED_ROUTES} | COLLECTION_ROUTES
    assert _served_routes() <= covered, _served_routes() - covered
