"""REST (seed 001): /api/projects/{projectId}/chats and /api/chats/{chatId}."""
from __future__ import annotations

import pytest

from apps.chats.models import Chat
from tests.factories import ChatFactory, CustomModeFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_new_project_lists_its_default_chat(tenant):
    response = tenant.client.get(f"/api/projects/{tenant.project.pk}/chats")
    assert response.status_code == 200
    [chat] = response.json()["chats"]
    assert chat["isDefault"] is True
    assert {"id", "title", "mode", "createdAt", "updatedAt"} <= set(chat)


@pytest.mark.parametrize("mode", ["build", "plan", "chat"])
def test_create_with_builtin_mode(tenant, mode):
    url = f"/api/projects/{tenant.project.pk}/chats"
    response = tenant.client.post(url, {"mode": mode, "title": "Checkout"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["mode"] == mode and body["title"] == "Checkout" and body["isDefault"] is False
    assert Chat.objects.get(pk=body["id"]).project == tenant.project
    listed = [c["id"] for c in tenant.client.get(url).json()["chats"]]
    assert listed[0] == body["id"]  # newest first


def test_create_with_custom_mode_of_this_project_only(tenant, other_tenant):
    CustomModeFactory(project=tenant.project, name="review")
    CustomModeFactory(project=other_tenant.project, name="audit")
    url = f"/api/projects/{tenant.project.pk}/chats"
    assert tenant.client.post(url, {"mode": "review"}, format="json").json()["mode"] == "review"
    response = tenant.client.post(url, {"mode": "audit"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "mode"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "mode"), ({"mode": "nonsense"}, "mode"), ({"mode": ""}, "mode"),
     ({"mode": "chat", "title": "t" * 201}, "title")],
)
def test_create_rejects_bad_input(tenant, payload, field):
    response = tenant.client.post(f"/api/projects/{tenant.project.pk}/chats", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_retrieve_and_patch(tenant):
    chat = ChatFactory(project=tenant.project, mode="chat", title="old")
    CustomModeFactory(project=tenant.project, name="review")
    url = f"/api/chats/{chat.pk}"
    assert tenant.client.get(url).json()["title"] == "old"

    response = tenant.client.patch(
        url, {"title": "new", "mode": "review", "defaultModel": "claude-sonnet-4", "dslEnabled": False},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["mode"], body["defaultModel"], body["dslEnabled"]) == (
        "new", "review", "claude-sonnet-4", False)
    chat.refresh_from_db()
    assert (chat.title, chat.mode, chat.default_model, chat.dsl_enabled) == (
        "new", "review", "claude-sonnet-4", False)


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"mode": "unknown"}, "mode"), ({"dslEnabled": "maybe"}, "dslEnabled"),
     ({"defaultModel": "m" * 101}, "defaultModel")],
)
def test_patch_rejects_bad_input_and_changes_nothing(tenant, payload, field):
    chat = ChatFactory(project=tenant.project, mode="plan", title="keep")
    response = tenant.client.patch(f"/api/chats/{chat.pk}", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    chat.refresh_from_db()
    assert (chat.mode, chat.title, chat.dsl_enabled) == ("plan", "keep", True)


def test_delete_removes_messages_and_promotes_a_new_default(tenant):
    default = Chat.objects.get(project=tenant.project, is_default=True)
    other = ChatFactory(project=tenant.project)
    MessageFactory(chat=default)
    assert tenant.client.delete(f"/api/chats/{default.pk}").status_code == 204
    assert not Chat.objects.filter(pk=default.pk).exists()
    other.refresh_from_db()
    assert other.is_default

    response = tenant.client.delete(f"/api/chats/{other.pk}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_chat"
    assert Chat.objects.filter(pk=other.pk).exists()
