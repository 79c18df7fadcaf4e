"""REST: /api/projects and /api/projects/{projectId}."""
from __future__ import annotations

import pytest

from apps.chats.models import Chat
from apps.projects.models import Project

pytestmark = pytest.mark.django_db


def test_list_returns_own_projects_newest_first(tenant, other_tenant):
    tenant.client.post("/api/projects", {"name": "second"}, format="json")
    response = tenant.client.get("/api/projects")
    assert response.status_code == 200
    names = [p["name"] for p in response.json()["projects"]]
    assert names == ["second", "alpha project"]
    assert set(response.json()["projects"][0]) == {"id", "name", "slug", "description", "createdAt", "updatedAt"}


def test_slugs_are_unique_per_workspace_and_found_only_there(tenant, other_tenant):
    from apps.core.errors import NotFound
    from apps.projects.selectors import project_get_by_id_or_slug

    slugs = [tenant.client.post("/api/projects", {"name": "My Blog!"}, format="json").json()["slug"]
             for _ in range(3)]
    assert slugs == ["my-blog", "my-blog-2", "my-blog-3"]
    other = other_tenant.client.post("/api/projects", {"name": "My Blog!"}, format="json").json()
    assert other["slug"] == "my-blog"  # unique per workspace, not globally
    found = project_get_by_id_or_slug(workspace=tenant.workspace, reference="my-blog-2")
    assert found.slug == "my-blog-2" and found.workspace == tenant.workspace
    assert project_get_by_id_or_slug(workspace=tenant.workspace, reference=str(found.pk)) == found
    for reference in ("no-such-project", other["id"], "", None, 42):
        with pytest.raises(NotFound):
            project_get_by_id_or_slug(workspace=tenant.workspace, reference=reference)


def test_create_makes_a_default_chat(tenant):
    response = tenant.client.post("/api/projects", {"name": "Shop", "description": "a web shop"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Shop" and body["description"] == "a web shop"
    project = Project.objects.get(pk=body["id"])
    assert project.workspace == tenant.workspace
    chats = list(Chat.objects.filter(project=project))
    assert len(chats) == 1 and chats[0].is_default


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": 5, "description": []},
                                                                          "description")],
)
def test_create_rejects_bad_input_naming_the_field(tenant, payload, field):
    response = tenant.client.post("/api/projects", payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == field


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b""])
def test_malformed_or_non_object_json_is_400_not_500(tenant, body):
    response = tenant.client.post("/api/projects", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"malformed_json", "invalid_request"}


def test_non_json_content_type_is_a_json_415(tenant):
    response = tenant.client.post("/api/projects", "name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "error" in response.json()


def test_retrieve_update_delete(tenant):
    url = f"/api/projects/{tenant.project.pk}"
    assert tenant.client.get(url).json()["name"] == "alpha project"

    response = tenant.client.patch(url, {"description": "now described"}, format="json")
    assert response.status_code == 200
    assert response.json()["description"] == "now described"
    assert response.json()["name"] == "alpha project"

    assert tenant.client.patch(url, {"name": ""}, format="json").json()["error"]["field"] == "name"

    assert tenant.client.delete(url).status_code == 204
    assert not Project.objects.filter(pk=tenant.project.pk).exists()
    assert not Chat.objects.filter(project_id=tenant.project.pk).exists()
    assert tenant.client.get(url).status_code == 404


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "1"])
def test_unknown_or_malformed_id_is_json_404(tenant, bad_id):
    response = tenant.client.get(f"/api/projects/{bad_id}")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Project not found."}}


def test_head_and_options_work_on_routed_views(tenant):
    assert tenant.client.head("/api/projects").status_code == 200
    assert tenant.client.head(f"/api/projects/{tenant.project.pk}").status_code == 200
    assert tenant.client.options(f"/api/projects/{tenant.project.pk}").status_code == 200


def test_unsupported_method_is_json_405(tenant):
    response = tenant.client.put(f"/api/projects/{tenant.project.pk}", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_schema_and_docs_are_served(tenant):
    schema = tenant.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path, methods in {
        "/api/projects": {"get", "post"},
        "/api/projects/{projectId}": {"get", "patch", "delete"},
        "/api/projects/{projectId}/chats": {"get", "post"},
        "/api/chats/{chatId}": {"get", "patch", "delete"},
        "/api/chat/{projectId}/messages": {"get"},
        "/api/runs/{runId}": {"get"},
        "/api/runs/{runId}/events": {"get"},
        "/api/api-keys": {"get", "post"},
        "/api/api-keys/{keyId}": {"delete"},
    }.items():
        assert methods <= set(paths[path]), path
    history = paths["/api/chat/{projectId}/messages"]["get"]
    assert {p["name"] for p in history["parameters"]} >= {"chatId", "before", "limit"}
    assert tenant.client.get("/api/docs/").status_code == 200


def test_default_project_is_the_oldest_or_created_once(tenant, other_tenant):
    from apps.core.models import Workspace
    from apps.projects.services import project_create, project_get_or_create_default

    assert project_get_or_create_default(workspace=tenant.workspace) == tenant.project
    project_create(workspace=tenant.workspace, name="newer")
    assert project_get_or_create_default(workspace=tenant.workspace) == tenant.project
    empty = Workspace.objects.create(name="empty")
    first = project_get_or_create_default(workspace=empty)
    assert first.workspace == empty and first.chats.filter(is_default=True).count() == 1
    assert project_get_or_create_default(workspace=empty) == first
    assert Project.objects.filter(workspace=empty).count() == 1


def test_client_chat_ids_are_per_workspace(tenant, other_tenant):
    from apps.chats.services import chat_get_or_create_for_client_id

    mine = chat_get_or_create_for_client_id(project=tenant.project, client_id="chat_xyz", title="t")
    again = chat_get_or_create_for_client_id(project=tenant.project, client_id="chat_xyz")
    theirs = chat_get_or_create_for_client_id(project=other_tenant.project, client_id="chat_xyz")
    assert mine.pk == again.pk and mine.project == tenant.project
    assert theirs.pk != mine.pk and theirs.project == other_tenant.project
    assert Chat.objects.filter(pk=mine.pk).count() == 1
